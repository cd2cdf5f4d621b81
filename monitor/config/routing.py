"""Alert routing settings: receivers, ordered routes and their matches.

Kept free of the rest of the package (like ``monitor.notify.settings``) so the
config can import it without cycles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ConfigDict, Field, field_validator

from monitor.config.base import Section
from monitor.rules.model import AlertKind, Severity, Tier

RECEIVER_FORMS = (
    "owner, owner:slack, owner:email, slack:#channel, slack:C0123ABCD, "
    "email:team@example.com, console or file"
)
_SLACK_CHANNEL = re.compile(r"#[a-z0-9._-]{1,80}|[CGD][A-Z0-9]{6,}")
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


@dataclass(frozen=True)
class Receiver:
    """Where a route sends its alerts, parsed from the text ops write (``RECEIVER_FORMS``)."""

    text: str
    channel: str | None
    """``slack``, ``email``, ``console`` or ``file``; None for ``owner``: the account
    owner on the default channels (Slack and/or email, else console and file)."""
    address: str | None
    """The fixed Slack channel or email address; None for the owner, console and file."""

    @property
    def is_owner(self) -> bool:
        return self.text == "owner" or self.text.startswith("owner:")


def parse_receiver(text: str) -> Receiver:
    """Parse one receiver; raises ValueError naming it and the accepted forms."""
    kind, _, rest = text.strip().partition(":")
    if kind == "owner" and rest in ("", "slack", "email"):
        return Receiver(text, rest or None, None)
    if kind in ("console", "file") and not rest:
        return Receiver(text, kind, None)
    if kind == "slack" and _SLACK_CHANNEL.fullmatch(rest):
        return Receiver(text, "slack", rest)
    if kind == "email" and _EMAIL.fullmatch(rest):
        return Receiver(text, "email", rest)
    raise ValueError(f"unknown receiver {text!r}; use {RECEIVER_FORMS}")


def _parse_receivers(receivers: tuple[str, ...]) -> tuple[str, ...]:
    for text in receivers:
        parse_receiver(text)
    return receivers


AttrValue = bool | int | float | str


class RouteMatch(Section):
    """Which alerts a route takes: every condition given must hold; none given: all."""

    kind: tuple[AlertKind, ...] | None = None
    tier: tuple[Tier, ...] | None = None
    severity: tuple[Severity, ...] | None = None
    rule: tuple[str, ...] | None = None
    attrs: dict[str, AttrValue | tuple[AttrValue, ...]] = Field(default_factory=dict)
    """Free CRM attributes, e.g. ``{ region = "EMEA" }``; a list matches any of its values."""


class RouteSettings(Section):
    """One ``[[routes]]`` entry. Routes are tried in order and the first match wins,
    unless it says ``continue = true``: then the next routes are tried too."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    match: RouteMatch = RouteMatch()
    receivers: tuple[str, ...] = Field(min_length=1)
    continue_: bool = Field(False, alias="continue")

    _receivers = field_validator("receivers")(_parse_receivers)


class RoutingSettings(Section):
    default_receivers: tuple[str, ...] = Field(("owner",), min_length=1)
    """For alerts no route matches."""
    fallback: tuple[str, ...] = Field(("console", "file"), min_length=1)
    """For alerts routed to the owner of an account that has none (no csm_email)."""
    resolve_notices: bool = False
    """Announce when a firing alert resolves (to whoever was told it fired)."""

    _receivers = field_validator("default_receivers", "fallback")(_parse_receivers)

    @field_validator("fallback")
    @classmethod
    def _no_owner(cls, receivers: tuple[str, ...]) -> tuple[str, ...]:
        for text in receivers:
            if parse_receiver(text).is_owner:
                raise ValueError(f"the fallback is for accounts without an owner: not {text!r}")
        return receivers
