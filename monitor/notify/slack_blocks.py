"""Block Kit layout of a Slack notification, built with ``slack_sdk.models.blocks``.

The wording comes from ``alerts/slack.j2`` (already escaped); this module only lays it
out and keeps it within Slack's limits, because a message Slack rejects as
``invalid_blocks`` is a lost alert:

* header: plain text, at most 150 characters;
* per alert: a section (3,000 characters), a context line, for a firing alert an actions
  block with Snooze/Acknowledge buttons whose ``value`` is the alert id, and a divider;
* at most :data:`MAX_DETAILED_ALERTS` alerts in detail (Slack allows 50 blocks), the rest
  as one summary section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from monitor.notify.formatting import slack_escape, truncate
from monitor.notify.message import AlertLine

MAX_DETAILED_ALERTS = 10
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
SNOOZE_ACTION_ID = "csmon_snooze"
ACK_ACTION_ID = "csmon_ack"


@dataclass(frozen=True)
class AlertPart:
    """One alert's escaped mrkdwn: the section text and the context line."""

    alert: AlertLine
    text: str
    context: str


def alert_actions(alert: AlertLine) -> ActionsBlock:
    """Snooze/Acknowledge buttons; the interactive handler reads the alert id from ``value``."""
    value = str(alert.alert_id)
    return ActionsBlock(
        elements=[
            ButtonElement(text="Snooze 7 days", action_id=SNOOZE_ACTION_ID, value=value),
            ButtonElement(
                text="Acknowledge", action_id=ACK_ACTION_ID, value=value, style="primary"
            ),
        ]
    )


def omitted_summary(alerts: Sequence[AlertLine]) -> str:
    names = ", ".join(f"{a.account_name} ({a.rule})" for a in alerts)
    return truncate(f"…and {len(alerts)} more: {slack_escape(names)}", SECTION_LIMIT)


def build_blocks(header: str, parts: Sequence[AlertPart]) -> list[dict[str, Any]]:
    """Lay out the message; every text must already be escaped for Slack."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(header, HEADER_LIMIT), emoji=True))
    ]
    for part in parts[:MAX_DETAILED_ALERTS]:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=truncate(part.text, SECTION_LIMIT)))
        )
        if part.context:
            context = MarkdownTextObject(text=truncate(part.context, SECTION_LIMIT))
            blocks.append(ContextBlock(elements=[context]))
        if part.alert.state == "firing":
            blocks.append(alert_actions(part.alert))
        blocks.append(DividerBlock())
    omitted = [part.alert for part in parts[MAX_DETAILED_ALERTS:]]
    if omitted:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=omitted_summary(omitted))))
    return [block.to_dict() for block in blocks]
