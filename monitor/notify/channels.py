"""Build the configured channels."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from monitor.clock import Clock
from monitor.notify.channel import Channel
from monitor.notify.console import ConsoleChannel, FileChannel
from monitor.notify.email import EmailChannel
from monitor.notify.settings import EmailSettings, SlackSettings
from monitor.notify.slack import SlackChannel

SERVER_CHANNELS = ("slack", "email")
LOCAL_CHANNELS = ("console", "file")


def channels_from_settings(
    slack: SlackSettings | None,
    email: EmailSettings | None,
    file_path: Path | None,
    *,
    clock: Clock | None = None,
    stream: TextIO | None = None,
) -> dict[str, Channel]:
    """Every channel that can work with this configuration, by name.

    ``console`` is always there and ``file`` whenever ``file_path`` is given; ``slack``
    needs a token and ``email`` an SMTP host. Use :func:`default_channel_names` for
    where alerts go when a route names no channel.
    """
    channels: dict[str, Channel] = {"console": ConsoleChannel(stream)}
    if file_path is not None:
        channels["file"] = FileChannel(file_path, clock=clock)
    if slack is not None and slack.enabled:
        channels["slack"] = SlackChannel(slack, clock=clock)
    if email is not None and email.enabled:
        channels["email"] = EmailChannel(email, clock=clock)
    return channels


def default_channel_names(channels: Mapping[str, Channel]) -> tuple[str, ...]:
    """Slack and/or email when configured; otherwise the console and the file."""
    servers = tuple(name for name in SERVER_CHANNELS if name in channels)
    return servers or tuple(name for name in LOCAL_CHANNELS if name in channels)
