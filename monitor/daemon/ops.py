"""Notices for CS ops about the daemon itself (an invalid rule or template edit).

They go straight through the configured channels, not through the outbox: the notice
must reach ops even when what is broken is what the outbox needs (the templates).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from html import escape

from monitor.config import parse_receiver
from monitor.notify import Channel, Rendered
from monitor.notify.formatting import slack_escape, truncate

log = logging.getLogger(__name__)

TEXT_LIMIT = 3000


class OpsNotifier:
    """Sends a notice to each of ``receivers`` (``"slack:#cs-ops"``, ...)."""

    def __init__(self, receivers: Sequence[str], channels: Mapping[str, Channel]) -> None:
        self.receivers = tuple(receivers)
        self.channels = channels

    def __call__(self, summary: str, problems: Sequence[str]) -> None:
        rendered = ops_message(summary, problems)
        for text in self.receivers:
            receiver = parse_receiver(text)
            channel = self.channels.get(receiver.channel or "")
            if channel is None:
                log.warning("Ops receiver %s: its channel is not configured", text)
                continue
            try:
                channel.send(receiver.address or text, rendered)
            except Exception as exc:  # one unreachable receiver must not silence the rest
                log.error("Could not tell ops receiver %s: %s", text, exc)
            else:
                log.info("Told ops receiver %s about the invalid edit", text)


def ops_message(summary: str, problems: Sequence[str]) -> Rendered:
    """The summary and one line per problem, escaped for each channel."""
    listing = "\n".join(f"- {p}" for p in problems)
    return Rendered(
        subject=summary,
        text=truncate(f"{summary}\n\n{listing}", TEXT_LIMIT),
        html=f"<p>{escape(summary)}</p>\n<pre>{escape(listing)}</pre>",
        slack_text=truncate(f"{slack_escape(summary)}\n```{slack_escape(listing)}```", TEXT_LIMIT),
    )
