"""One alerting cycle: evaluate, move every alert through its lifecycle, queue messages.

The daemon's evaluation job and ``csmon evaluate`` call :func:`evaluate_and_alert`.
Alert state changes, their ``alert_events`` and the outbox rows are written in ONE
transaction: a crash leaves either all of them or none, so a notification is never
lost nor queued twice; the dispatcher sends what the outbox holds.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert

from monitor.alerting.compose import (
    Notice,
    Queued,
    alert_line,
    group_by_destination,
    rule_conditions,
)
from monitor.alerting.lifecycle import AlertRow
from monitor.alerting.plan import AlertChange, active_keys, plan_alerts
from monitor.alerting.routing import RouteInput, Router
from monitor.alerting.state import (
    latest_evaluation,
    load_alerts_by_key,
    load_open_alerts,
    lock_alert_state,
    save_alerts,
    save_events,
)
from monitor.alerting.trends import band_trend, previous_bands
from monitor.config import Settings
from monitor.evaluation import Evaluation, evaluate_accounts
from monitor.rules.model import RuleSet
from monitor.store.schema import outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertingOutcome:
    """What one cycle did."""

    evaluation: Evaluation
    accounts: int
    transitions: Mapping[str, int]
    """Events recorded, by kind (``firing``, ``resolved``, ``notified``, ...)."""
    alerts_changed: int
    """Alerts that recorded at least one event."""
    alerts_notified: int
    notifications_queued: int
    """Outbox rows inserted: one per (channel, target)."""
    seconds: float
    """The whole cycle: the evaluation, then alert state and queueing."""
    newer_state_at: datetime | None = None
    """Set when the alert state already came from a later evaluation than this one
    (e.g. ``csmon evaluate --at`` a past date): then nothing was changed or queued."""

    def describe(self) -> str:
        """One line for the CLI and the daemon's log."""
        if self.newer_state_at is not None:
            return (
                f"alerts left as they are: their state is from a later evaluation "
                f"({self.newer_state_at:%Y-%m-%d %H:%M} UTC)"
            )
        return (
            f"{self.alerts_changed:,} alerts changed, "
            f"{self.notifications_queued:,} notifications queued"
        )


def evaluate_and_alert(
    engine: Engine, rules: RuleSet, settings: Settings, at: datetime
) -> AlertingOutcome:
    """Evaluate every account at ``at`` (health snapshots stored), then apply the
    verdicts to the alert state and queue the notifications they call for.

    Safe to call concurrently and repeatedly: see :func:`record_alerts`.
    """
    evaluation = evaluate_accounts(engine, rules, at, store=True)
    return record_alerts(engine, rules, settings, evaluation)


def record_alerts(
    engine: Engine, rules: RuleSet, settings: Settings, evaluation: Evaluation
) -> AlertingOutcome:
    """Apply an evaluation to the alert state and queue notifications, in one transaction.

    1. Take the alert-state lock (PostgreSQL advisory lock / SQLite write lock), so a
       second evaluator waits and then sees this one's committed state.
    2. Load every open alert, and the stored rows of the active keys that are not
       open (a new episode reuses its row): two queries, whatever the portfolio size.
    3. Plan the transitions (pure) and write the changed rows and their events with
       executemany.
    4. Route and group the alerts to notify (band trends from the snapshots), and
       insert one outbox row per (channel, target), due at once.

    The evaluation instant is the lifecycle's "now": evaluating twice at the same
    instant changes nothing and queues nothing the second time, and an evaluation
    older than the stored state (a look at the past) leaves the alerts alone rather
    than resolving them and firing them again.
    """
    started = time.perf_counter()
    router = Router.from_settings(settings)
    changes: list[AlertChange] = []
    notices: list[Notice] = []
    queued: list[Queued] = []
    with engine.begin() as conn:
        lock_alert_state(conn)
        newer = latest_evaluation(conn)
        if newer is None or newer <= evaluation.at:
            newer = None
            stored = load_open_alerts(conn)
            stored |= load_alerts_by_key(conn, active_keys(evaluation) - stored.keys())
            changes = plan_alerts(
                evaluation, rules, stored, resolve_notices=settings.routing.resolve_notices
            )
            saved = save_alerts(conn, [change.row for change in changes])
            save_events(
                conn,
                (
                    (row.alert_id, event)
                    for change, row in zip(changes, saved, strict=True)
                    if row.alert_id is not None
                    for event in change.transition.events
                ),
            )
            notices = _notices(evaluation, changes, saved)
            queued = _compose(conn, notices, rules, router, evaluation.at)
            if queued:
                conn.execute(insert(outbox), [q.outbox_row(evaluation.at) for q in queued])
    outcome = AlertingOutcome(
        evaluation=evaluation,
        accounts=len(evaluation.accounts),
        transitions=dict(Counter(e.change for c in changes for e in c.transition.events)),
        alerts_changed=sum(1 for change in changes if change.transition.events),
        alerts_notified=len(notices),
        notifications_queued=len(queued),
        seconds=evaluation.seconds + time.perf_counter() - started,
        newer_state_at=newer,
    )
    if newer is not None:
        log.warning(
            "alerting at %s skipped: the alert state is from a later evaluation (%s)",
            evaluation.at.isoformat(),
            newer.isoformat(),
        )
    else:
        log.info("alerting at %s: %s", evaluation.at.isoformat(), outcome.describe())
    return outcome


def _notices(
    evaluation: Evaluation, changes: Sequence[AlertChange], saved: Sequence[AlertRow]
) -> list[Notice]:
    results = {result.account_id: result for result in evaluation.accounts}
    notices = []
    for change, row in zip(changes, saved, strict=True):
        decision = change.transition.notify
        result = results.get(row.account_id)
        if decision.send and result is not None:
            facts = evaluation.facts[row.account_id]
            notices.append(Notice(row, decision, result, facts, change.verdict))
    return notices


def _compose(
    conn: Connection, notices: Sequence[Notice], rules: RuleSet, router: Router, at: datetime
) -> list[Queued]:
    if not notices:
        return []
    conditions = rule_conditions(rules)
    previous = previous_bands(conn, {n.alert.account_id for n in notices}, at)
    routed = []
    for notice in notices:
        trend = band_trend(previous.get(notice.alert.account_id), notice.result.band)
        line = alert_line(notice, conditions.get(notice.alert.rule), trend)
        route = RouteInput(
            kind=notice.alert.kind,
            tier=notice.result.tier,
            severity=notice.alert.severity,
            rule=notice.alert.rule,
            owner=notice.facts.csm_email,
            attributes=notice.facts.attributes,
        )
        routed.append((line, router.destinations(route)))
    return group_by_destination(routed, at)
