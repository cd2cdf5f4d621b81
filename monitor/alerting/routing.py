"""Who hears about an alert: ordered routes, first match wins (like Alertmanager).

Routes come from ``[[routes]]`` in the config. Each has a ``match`` (kind, tier,
severity, rule, free account attributes; every condition given must hold) and
``receivers``. The first matching route decides, unless it says ``continue = true``,
in which case the following routes are tried as well and their receivers added. An
alert no route takes goes to ``routing.default_receivers`` (default: the owner).

A receiver becomes one or more destinations, each a (channel, target) pair the outbox
stores and a channel can send to:

============================  ==================================================
``owner``                     the account's CSM on the default channels: Slack DM
                              (``user:EMAIL``) and/or email when configured, else
                              the console and the file
``owner:slack``/``owner:email``  the CSM on that channel only
``slack:#channel``/``slack:C…``  a Slack channel
``email:list@example.com``    a fixed address
``console``/``file``          the daemon's output / the notifications file
============================  ==================================================

An owner receiver for an account without ``csm_email`` is replaced by
``routing.fallback``. Pure functions: the router is built once per evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.config import Receiver, RouteMatch, RouteSettings, Settings, parse_receiver
from monitor.notify import channels_from_settings, default_channel_names

SLACK_USER = "user:"
"""How a Slack target names a person to message directly (see monitor.notify.slack)."""


@dataclass(frozen=True)
class Destination:
    """One recipient of a grouped message: the outbox row's channel and target."""

    channel: str
    target: str
    recipient: str
    """Who it is for, in words (shown in the message and ``csmon`` listings)."""


@dataclass(frozen=True)
class RouteInput:
    """What routes can match on, for one alert."""

    kind: str
    tier: str
    severity: str
    rule: str
    owner: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class _Route:
    match: RouteMatch
    receivers: tuple[Receiver, ...]
    continue_: bool


class Router:
    """Turns an alert into its destinations, following the configured routes."""

    def __init__(
        self,
        routes: Sequence[RouteSettings],
        *,
        default_receivers: Sequence[str],
        fallback: Sequence[str],
        owner_channels: Sequence[str],
    ) -> None:
        """``owner_channels`` are the channels a plain ``owner`` receiver uses."""
        self._routes = tuple(
            _Route(r.match, tuple(parse_receiver(t) for t in r.receivers), r.continue_)
            for r in routes
        )
        self._default = tuple(parse_receiver(text) for text in default_receivers)
        self._fallback = tuple(parse_receiver(text) for text in fallback)
        self._owner_channels = tuple(owner_channels)

    @classmethod
    def from_settings(cls, settings: Settings) -> Router:
        channels = channels_from_settings(settings.slack, settings.email, settings.notify_file_path)
        return cls(
            settings.routes,
            default_receivers=settings.routing.default_receivers,
            fallback=settings.routing.fallback,
            owner_channels=default_channel_names(channels),
        )

    def receivers(self, alert: RouteInput) -> tuple[Receiver, ...]:
        """The receivers of every matching route, in route order (the default ones
        when no route matches)."""
        chosen: list[Receiver] = []
        for route in self._routes:
            if not matches(route.match, alert):
                continue
            chosen.extend(route.receivers)
            if not route.continue_:
                break
        return tuple(chosen) or self._default

    def destinations(self, alert: RouteInput) -> tuple[Destination, ...]:
        """Where the alert goes, each (channel, target) once, in route order."""
        owner = normalise_email(alert.owner)
        found: dict[tuple[str, str], Destination] = {}
        for receiver in self.receivers(alert):
            if receiver.is_owner and owner is None:
                resolved = [d for r in self._fallback for d in self._expand(r, None)]
            else:
                resolved = self._expand(receiver, owner)
            for destination in resolved:
                found.setdefault((destination.channel, destination.target), destination)
        return tuple(found.values())

    def _expand(self, receiver: Receiver, owner: str | None) -> list[Destination]:
        if not receiver.is_owner:
            assert receiver.channel is not None  # only owner receivers have none
            target = receiver.address or receiver.channel
            return [Destination(receiver.channel, target, target)]
        assert owner is not None
        channels = (receiver.channel,) if receiver.channel else self._owner_channels
        return [
            Destination(channel, SLACK_USER + owner if channel == "slack" else owner, owner)
            for channel in channels
        ]


def matches(match: RouteMatch, alert: RouteInput) -> bool:
    """Whether every condition of ``match`` holds for the alert."""
    checks = (
        (match.kind, alert.kind),
        (match.tier, alert.tier),
        (match.severity, alert.severity),
        (match.rule, alert.rule),
    )
    if any(wanted is not None and value not in wanted for wanted, value in checks):
        return False
    return all(
        _attribute_matches(alert.attributes.get(name), wanted)
        for name, wanted in match.attrs.items()
    )


def normalise_email(email: str | None) -> str | None:
    """Lower-cased and trimmed, so one CSM's alerts group into one message; None if blank."""
    if email is None or not email.strip():
        return None
    return email.strip().lower()


def _attribute_matches(value: object, wanted: object) -> bool:
    """CRM attributes arrive as text from CSV and typed from JSON: compare their
    normalised text, so ``strategic = true`` matches "true" and true alike."""
    if value is None:
        return False
    options = wanted if isinstance(wanted, tuple | list) else (wanted,)
    return _text(value) in {_text(option) for option in options}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()
