"""The alert lifecycle as a pure function: every arrow, with its events and notification."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.alerting.lifecycle import (
    AlertRow,
    Transition,
    resolve_quietly,
    transition,
)
from monitor.evaluation import Verdict

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def verdict(state: str = "firing", severity: str = "warning", **fields: Any) -> Verdict:
    defaults: dict[str, Any] = {
        "rule": "usage_drop",
        "kind": "churn_risk",
        "key": "usage_drop",
        "values": {"logins_change_14d": -0.5},
    }
    defaults.update(fields)
    return Verdict(state=state, severity=severity, **defaults)  # type: ignore[arg-type]


def renewal(state: str = "firing", severity: str = "info", threshold: int = 60) -> Verdict:
    return verdict(
        state,
        severity,
        rule="renewal",
        kind="renewal",
        key=f"renewal:c1:{threshold}",
        values={"days_to_renewal": threshold - 5},
        threshold_days=threshold,
    )


def stored(state: str = "firing", **fields: Any) -> AlertRow:
    """An alert that started firing (and was announced) two days before NOW."""
    base = AlertRow(
        alert_id=7,
        account_id="a1",
        key="usage_drop",
        rule="usage_drop",
        kind="churn_risk",
        state=state,  # type: ignore[arg-type]
        severity="warning",
        values={"logins_change_14d": -0.5},
        band="yellow",
        last_evaluated_at=NOW - DAY,
        pending_since=NOW - 3 * DAY if state == "pending" else None,
        firing_since=NOW - 2 * DAY if state != "pending" else None,
        resolved_at=NOW - DAY if state == "resolved" else None,
        last_notified_at=NOW - 2 * DAY if state != "pending" else None,
        last_notified_severity="warning" if state != "pending" else None,
        notify_count=1 if state != "pending" else 0,
    )
    return replace(base, **fields)


def step(
    row: AlertRow | None,
    new: Verdict,
    *,
    at: datetime = NOW,
    band: str = "yellow",
    repeat: timedelta | None = WEEK,
    resolve_notices: bool = False,
) -> Transition:
    return transition(row, new, at, repeat, band, account_id="a1", resolve_notices=resolve_notices)


def changes(result: Transition) -> list[str]:
    return [event.change for event in result.events]


V, S = verdict, stored
LATER = {"at": NOW + 5 * DAY}
NOTICES = {"resolve_notices": True}

# case: (stored row, verdict, options, new state (None: nothing stored), events, reason)
ARROWS: dict[str, tuple[AlertRow | None, Verdict, dict[str, Any], str | None, str, str | None]]
ARROWS = {
    "inactive, nothing stored": (None, V("inactive"), {}, None, "", None),
    "new pending": (None, V("pending"), {}, "pending", "pending", None),
    "new firing": (None, V("firing"), {}, "firing", "firing notified", "firing"),
    "pending stays pending": (S("pending"), V("pending"), {}, "pending", "", None),
    "pending starts firing": (S("pending"), V(), {}, "firing", "firing notified", "firing"),
    "pending clears": (S("pending"), V("inactive"), {}, "resolved", "resolved", None),
    "firing within repeat": (S(), V(), {}, "firing", "", None),
    "firing, repeat elapsed": (S(), V(), LATER, "firing", "notified", "repeat"),
    "firing, severity rises": (
        S(),
        V(severity="critical"),
        {},
        "firing",
        "severity_up notified",
        "severity_up",
    ),
    "firing, severity falls": (S(), V(severity="info"), {}, "firing", "", None),
    "firing, verdict pending (missed checkpoint)": (S(), V("pending"), {}, "firing", "", None),
    "firing resolves quietly": (S(), V("inactive"), {}, "resolved", "resolved", None),
    "firing resolves with a notice": (
        S(),
        V("inactive"),
        NOTICES,
        "resolved",
        "resolved notified",
        "resolved",
    ),
    "resolved stays resolved": (S("resolved"), V("inactive"), {}, None, "", None),
    "resolved fires again": (S("resolved"), V(), {}, "firing", "firing notified", "firing"),
    "resolved goes pending": (S("resolved"), V("pending"), {}, "pending", "pending", None),
}


@pytest.mark.parametrize(
    ("row", "new", "kwargs", "state", "events", "reason"), ARROWS.values(), ids=ARROWS.keys()
)
def test_each_arrow_of_the_lifecycle(
    row: AlertRow | None,
    new: Verdict,
    kwargs: dict[str, Any],
    state: str | None,
    events: str,
    reason: str | None,
) -> None:
    result = step(row, new, **kwargs)
    assert (result.row.state if result.row else None) == state
    assert changes(result) == events.split()
    assert result.notify.reason == reason


def test_a_new_alert_records_when_it_started_and_who_was_told_what() -> None:
    pending = step(None, verdict("pending"), at=NOW - DAY).row
    assert pending is not None
    assert pending.pending_since == NOW - DAY and pending.firing_since is None
    firing = step(pending, verdict("firing", "critical")).row
    assert firing is not None
    assert firing.firing_since == NOW and firing.pending_since == NOW - DAY
    assert (firing.last_notified_at, firing.last_notified_severity) == (NOW, "critical")
    assert firing.notify_count == 1


def test_the_same_verdict_at_the_same_instant_changes_nothing() -> None:
    first = step(None, verdict("firing"))
    again = step(first.row, verdict("firing"))
    assert again.row == first.row
    assert again.events == () and not again.notify.send


def test_repeat_counts_from_the_last_notification_not_from_the_start() -> None:
    row = stored(firing_since=NOW - 20 * DAY, last_notified_at=NOW - 6 * DAY)
    assert not step(row, verdict()).notify.send
    assert step(row, verdict(), at=NOW + DAY).notify.reason == "repeat"


def test_after_a_fall_only_a_rise_above_the_last_announced_severity_notifies() -> None:
    row = stored(last_notified_severity="critical", severity="critical")
    fallen = step(row, verdict(severity="warning")).row
    assert fallen is not None
    back = step(fallen, verdict(severity="critical"))
    assert changes(back) == ["severity_up"] and not back.notify.send


def test_a_new_episode_clears_the_acknowledgement() -> None:
    row = stored("resolved", acked_at=NOW - 3 * DAY, acked_by="jane@example.com")
    result = step(row, verdict("firing"))
    assert result.row is not None
    assert result.row.acked_at is None and result.row.resolved_at is None
    assert result.notify.reason == "firing"


# --- renewals ---------------------------------------------------------------------------


def test_a_renewal_threshold_fires_once_and_never_repeats() -> None:
    first = step(None, renewal(), repeat=None)
    assert first.notify.reason == "firing"
    assert first.row is not None
    later = step(first.row, renewal(), at=NOW + 60 * DAY, repeat=None)
    assert not later.notify.send


def test_a_renewal_key_seen_again_after_resolving_stays_silent() -> None:
    first = step(None, renewal(), repeat=None).row
    assert first is not None
    gone = resolve_quietly(first, NOW + DAY, "resolved", "superseded").row
    assert gone is not None
    again = step(gone, renewal(), at=NOW + 2 * DAY, repeat=None)
    assert again.row is not None and again.row.state == "firing"
    assert not again.notify.send


def test_a_renewal_whose_severity_rises_is_announced_again() -> None:
    first = step(None, renewal(), repeat=None).row
    worse = step(first, renewal(severity="critical"), at=NOW + DAY, repeat=None)
    assert worse.notify.reason == "severity_up"


# --- snooze and acknowledge ---------------------------------------------------------------


def snoozed(**fields: Any) -> AlertRow:
    return stored(
        snoozed_until=NOW + 10 * DAY,
        snooze_reason="talking to them",
        snoozed_band="yellow",
        snoozed_severity="warning",
        **fields,
    )


def test_a_snoozed_alert_is_silent_even_when_its_repeat_is_due() -> None:
    result = step(snoozed(), verdict(), at=NOW + 8 * DAY)
    assert not result.notify.send and result.events == ()
    assert result.row is not None and result.row.snoozed_until == NOW + 10 * DAY


def test_a_snooze_that_expires_notifies_and_records_why() -> None:
    result = step(snoozed(), verdict(), at=NOW + 10 * DAY)
    assert changes(result) == ["unsnoozed_expired", "notified"]
    assert result.notify.reason == "unsnoozed"
    assert result.row is not None and result.row.snoozed_until is None


@pytest.mark.parametrize(
    ("band", "severity", "events", "reason"),
    [
        ("red", "warning", ["unsnoozed_worse", "notified"], "unsnoozed"),
        ("yellow", "critical", ["severity_up", "unsnoozed_worse", "notified"], "severity_up"),
        ("unknown", "warning", [], None),
        ("green", "info", [], None),
    ],
    ids=["band drops", "severity rises", "unknown band is not worse", "better"],
)
def test_a_worse_account_ends_the_snooze(
    band: str, severity: str, events: list[str], reason: str | None
) -> None:
    result = step(snoozed(), verdict(severity=severity), band=band)
    assert changes(result) == events
    assert result.notify.reason == reason


def test_a_snooze_survives_a_resolve_within_its_time() -> None:
    resolved = step(snoozed(), verdict("inactive"), resolve_notices=True)
    assert not resolved.notify.send  # no resolve notice for a snoozed alert
    assert resolved.row is not None
    again = step(resolved.row, verdict(), at=NOW + DAY)
    assert changes(again) == ["firing"] and not again.notify.send


def test_an_acknowledged_alert_stays_silent_until_its_severity_rises() -> None:
    row = stored(acked_at=NOW - DAY, acked_by="jane@example.com")
    assert not step(row, verdict(), at=NOW + 30 * DAY).notify.send
    assert step(row, verdict(severity="critical")).notify.reason == "severity_up"


def test_a_resolve_notice_goes_only_to_alerts_that_were_announced() -> None:
    never_told = stored(last_notified_at=None, last_notified_severity=None)
    result = step(never_told, verdict("inactive"), resolve_notices=True)
    assert not result.notify.send


def test_quiet_resolution_records_its_reason_and_tells_no_one() -> None:
    result = resolve_quietly(stored(), NOW, "resolved_rule_removed", "rule deleted or disabled")
    assert result.row is not None and result.row.state == "resolved"
    assert result.row.resolved_at == NOW
    assert [(e.change, e.note) for e in result.events] == [
        ("resolved_rule_removed", "rule deleted or disabled")
    ]
    assert not result.notify.send
