"""Notification channels: render grouped alerts and deliver them to Slack, email,
the console or a file.

The outbox's contract is small::

    rendered = render(notification, settings.alerts_dir)
    channels = channels_from_settings(settings.slack, settings.email, file_path)
    channels[name].send(target, rendered)   # or TemporaryFailure / PermanentFailure
"""

from monitor.notify.channel import Channel
from monitor.notify.channels import channels_from_settings, default_channel_names
from monitor.notify.codec import notification_from_dict, notification_to_dict
from monitor.notify.console import ConsoleChannel, FileChannel
from monitor.notify.email import EmailChannel
from monitor.notify.errors import DeliveryFailure, PermanentFailure, TemporaryFailure
from monitor.notify.message import AlertLine, MetricValue, Notification, Rendered
from monitor.notify.render import check_templates, render
from monitor.notify.settings import EmailSettings, SlackSettings
from monitor.notify.slack import SlackChannel

__all__ = [
    "AlertLine",
    "Channel",
    "ConsoleChannel",
    "DeliveryFailure",
    "EmailChannel",
    "EmailSettings",
    "FileChannel",
    "MetricValue",
    "Notification",
    "PermanentFailure",
    "Rendered",
    "SlackChannel",
    "SlackSettings",
    "TemporaryFailure",
    "channels_from_settings",
    "check_templates",
    "default_channel_names",
    "notification_from_dict",
    "notification_to_dict",
    "render",
]
