"""Running rule unit tests: an account, an instant, input -> expected conclusions.

Like ``promtool test rules``, tests run the real thing. Tests that give usage
``events`` go through the real importers into a private in-memory SQLite store and
the real evaluation (SQL metrics, checkpoints for ``for``); tests that give
``metrics`` directly take the pure path, where the values are held constant over the
checkpoints and derived metrics are computed from them.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, select

from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.evaluation import AccountResult, Verdict, evaluate_accounts, evaluate_env
from monitor.evaluation.history import checkpoints
from monitor.evaluation.verdicts import checkpoint_days
from monitor.ingest.report import ImportReport
from monitor.metrics.accounts import AccountFacts
from monitor.rules.model import RuleSet
from monitor.rules.testcases import (
    ContractInput,
    EventInput,
    Expectation,
    RuleTestCase,
    Scalar,
    load_rule_tests,
)
from monitor.store import create_store_engine, upgrade
from monitor.store.schema import import_rejects, metadata

ACTIVE = "active"


@dataclass(frozen=True)
class RuleTestResult:
    case: RuleTestCase
    failures: tuple[str, ...] = ()
    """One line per unmet expectation: ``tier: expected "S", got "A" (...)``."""
    error: str | None = None
    """The test could not run (e.g. the importer rejected one of its events)."""

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


class InputRejected(Exception):
    """A test's account, contracts or events were rejected by the importer."""


def run_rule_tests(rules: RuleSet, tests_path: Path) -> list[RuleTestResult]:
    """Load the tests in ``tests_path`` (a file or a folder) and run each.

    Raises :class:`~monitor.rules.problems.RuleError` when a test file is broken.
    """
    cases = load_rule_tests(tests_path, rules)
    with _store() as store:
        return [run_case(rules, case, store) for case in cases]


def run_case(rules: RuleSet, case: RuleTestCase, store: _Store) -> RuleTestResult:
    try:
        if case.metrics is None:
            result = store.evaluate(rules, case)
        else:
            result = evaluate_given(rules, case, case.metrics)
    except InputRejected as exc:
        return RuleTestResult(case, error=str(exc))
    return RuleTestResult(case, tuple(compare(rules, case.expect, result)))


# --- the pure path: metric values given ------------------------------------------------


def evaluate_given(
    rules: RuleSet, case: RuleTestCase, given: Mapping[str, Scalar]
) -> AccountResult:
    """Evaluate from given metric values, constant over the ``for`` checkpoints; the
    built-in attributes (days_to_renewal, age_days, ...) move with each checkpoint."""
    facts = account_facts(case)
    history = [
        facts.attribute_values(instant) | dict(given) for instant in checkpoints(rules, case.at)
    ]
    now = facts.attribute_values(case.at) | dict(given)
    now["active_contract_id"] = facts.active_contract_id
    return evaluate_env(rules, now, history, case.at)


def account_facts(case: RuleTestCase) -> AccountFacts:
    """What the store would know about the test's account (renewal date from the
    latest-ending active contract, as the real evaluation does)."""
    account = case.account
    active = [c for c in case.contracts if c.status == ACTIVE]
    contract = max(active, key=lambda c: (c.end, c.contract_id)) if active else None
    return AccountFacts(
        account_id=account.account_id,
        name=account.name,
        arr=account.arr,
        seats=account.seats,
        plan=account.plan,
        csm_email=account.csm_email,
        created_at=account.created_at,
        renewal_date=contract.end if contract else account.renewal_date,
        active_contract_id=contract.contract_id if contract else None,
        attributes=dict(account.attributes),
    )


# --- the store path: events given --------------------------------------------------


class _Store:
    """A private SQLite store in a temporary folder, made on first use and emptied
    before each test. A file rather than ``sqlite://``: an in-memory database exists
    per connection, and the importers may use more than one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_store_engine(f"sqlite:///{self.folder / 'rule-tests.db'}")
            upgrade(self._engine)
        return self._engine

    def evaluate(self, rules: RuleSet, case: RuleTestCase) -> AccountResult:
        """1. Empty the store. 2. Import the account, contracts and events through the
        real importers, as of ``at``. 3. Evaluate every account at ``at``."""
        engine = self.engine
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
        self._import_inputs(engine, case)
        return evaluate_accounts(engine, rules, case.at).result(case.account.account_id)

    def _import_inputs(self, engine: Engine, case: RuleTestCase) -> None:
        from monitor.ingest.crm import import_accounts, import_contracts
        from monitor.ingest.events import import_events

        clock = FixedClock(case.at)
        accounts = self._write("accounts.json", json.dumps([account_record(case)]))
        _check(engine, import_accounts(engine, accounts, clock=clock), "account")
        if case.contracts:
            records = [contract_record(case, c) for c in case.contracts]
            contracts = self._write("contracts.json", json.dumps(records))
            _check(engine, import_contracts(engine, contracts, clock=clock), "contract")
        if case.events:
            lines = "\n".join(json.dumps(m) for m in segment_messages(case))
            events = self._write("events.jsonl", lines + "\n")
            _check(engine, import_events(engine, events, IngestSettings(), clock=clock), "event")

    def _write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@contextmanager
def _store() -> Iterator[_Store]:
    with tempfile.TemporaryDirectory(prefix="csmon-rule-tests-") as folder:
        store = _Store(Path(folder))
        try:
            yield store
        finally:
            store.close()


def account_record(case: RuleTestCase) -> dict[str, object]:
    account = case.account
    record: dict[str, object] = dict(account.attributes)
    record.update(
        account_id=account.account_id,
        name=account.name,
        arr=account.arr,
        seats=account.seats,
        plan=account.plan,
        csm_email=account.csm_email,
        created_at=account.created_at.isoformat() if account.created_at else None,
        renewal_date=account.renewal_date.isoformat() if account.renewal_date else None,
    )
    return {key: value for key, value in record.items() if value is not None}


def contract_record(case: RuleTestCase, contract: ContractInput) -> dict[str, object]:
    return {
        "contract_id": contract.contract_id,
        "account_id": case.account.account_id,
        "start": contract.start.isoformat(),
        "end": contract.end.isoformat(),
        "arr": contract.arr,
        "status": contract.status,
    }


def segment_messages(case: RuleTestCase) -> Iterator[dict[str, object]]:
    """Segment track/page messages for the compact events: ``count`` per listed day,
    stamped at the start of that UTC day (so day 0 is always before ``at``)."""
    number = 0
    for event in case.events:
        for days_ago in event.days_ago:
            day = case.at.astimezone(UTC).date() - timedelta(days=days_ago)
            stamp = datetime.combine(day, time(0), UTC).isoformat().replace("+00:00", "Z")
            for _ in range(event.count):
                number += 1
                yield _message(case, event, f"rule-test-{number}", stamp)


def _message(
    case: RuleTestCase, event: EventInput, message_id: str, stamp: str
) -> dict[str, object]:
    message: dict[str, object] = {
        "messageId": message_id,
        "userId": event.user,
        "timestamp": stamp,
        "context": {"groupId": case.account.account_id},
    }
    if event.page is not None:
        return message | {"type": "page", "properties": {**event.properties, "path": event.page}}
    return message | {"type": "track", "event": event.event, "properties": dict(event.properties)}


def _check(engine: Engine, report: ImportReport, what: str) -> None:
    if not report.rejected:
        return
    with engine.connect() as conn:
        reasons = conn.execute(
            select(import_rejects.c.reason).where(import_rejects.c.import_id == report.import_id)
        ).scalars()
        shown = "; ".join(sorted(set(reasons)))
    raise InputRejected(f"the importer rejected {report.rejected} {what} record(s): {shown}")


# --- comparing ---------------------------------------------------------------------


def compare(rules: RuleSet, expect: Expectation, result: AccountResult) -> Iterator[str]:
    """Every unmet expectation, as ``field: expected X, got Y``."""
    if expect.tier is not None and result.tier != expect.tier:
        yield f"tier: expected {expect.tier}, got {result.tier} ({result.tier_reason})"
    if expect.band is not None and result.band != expect.band:
        yield (
            f"band: expected {expect.band}, got {result.band} "
            f"(score {show(result.score)}, {result.coverage:.0%} of the weight with data)"
        )
    if expect.score is not None:
        low, high = expect.score
        if result.score is None or not low <= result.score <= high:
            yield f"score: expected {show(low)} to {show(high)}, got {show(result.score)}"
    verdicts = {verdict.rule: verdict for verdict in result.verdicts}
    for entry in expect.alerts:
        rule, _, days = entry.partition(":")
        verdict = verdicts.get(rule)
        threshold = int(days) if days else None
        if not _firing(verdict, threshold):
            yield f"alerts: expected {entry} firing, got {describe(rules, verdict)}"
    for rule in expect.pending:
        verdict = verdicts.get(rule)
        if verdict is None or verdict.state != "pending":
            yield f"pending: expected {rule} pending, got {describe(rules, verdict)}"
    for entry in expect.not_alerts:
        rule, _, days = entry.partition(":")
        verdict = verdicts.get(rule)
        if _firing(verdict, int(days) if days else None):
            yield f"not_alerts: expected {entry} not firing, got {describe(rules, verdict)}"
    for rule, severity in expect.severities.items():
        verdict = verdicts.get(rule)
        if verdict is None or verdict.state == "inactive" or verdict.severity != severity:
            yield f"severities: expected {rule} {severity}, got {describe(rules, verdict)}"
    for name, expected in expect.metrics.items():
        got = result.metrics.get(name)
        if not same_value(expected, got):
            yield f"metrics.{name}: expected {show(expected)}, got {show(got)}"


def _firing(verdict: Verdict | None, threshold: int | None) -> bool:
    if verdict is None or verdict.state != "firing":
        return False
    return threshold is None or verdict.threshold_days == threshold


def describe(rules: RuleSet, verdict: Verdict | None) -> str:
    """A verdict in words: ``pending (held 1 of 2 days)``, ``firing critical``..."""
    if verdict is None:
        return "no verdict"
    if verdict.state == "inactive":
        return "inactive"
    text = f"{verdict.state} {verdict.severity}"
    if verdict.threshold_days is not None:
        text += f" at the {verdict.threshold_days}-day threshold"
    if verdict.state == "pending":
        rule = next((r for r in rules.alerts if r.name == verdict.rule), None)
        if rule is not None:
            needed = checkpoint_days(rule.for_)
            text += f" (held on {verdict.held_days} of the {needed} days before)"
    return text


def same_value(expected: Scalar, got: object) -> bool:
    """Equal, with a tolerance for numbers; a boolean only equals a boolean."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return math.isclose(expected, got, rel_tol=1e-6, abs_tol=1e-9)
    return expected == got


def show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)
