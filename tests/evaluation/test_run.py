"""A whole evaluation over a synthetic portfolio: exact, repeatable, stored once per instant."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.clock import FixedClock
from monitor.config import IngestSettings
from monitor.evaluation import evaluate_accounts
from monitor.evaluation.history import checkpoint_metrics
from monitor.ingest.events import import_events
from monitor.rules.loader import load_rules
from monitor.rules.model import RuleSet
from monitor.store.schema import health_snapshots

RULES = Path(__file__).parents[2] / "rules"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(RULES)


def test_evaluating_twice_at_the_same_instant_gives_the_same_result_and_one_snapshot(
    demo_store: Engine, rules: RuleSet, clock: FixedClock
) -> None:
    at = clock.now() - timedelta(hours=5)
    first = evaluate_accounts(demo_store, rules, at, store=True)
    second = evaluate_accounts(demo_store, rules, at, store=True)
    assert [r.__dict__ for r in first.accounts] == [r.__dict__ for r in second.accounts]
    with demo_store.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(health_snapshots))
    assert stored == len(first.accounts) > 0


def test_events_after_the_instant_do_not_change_it(
    demo_store: Engine, rules: RuleSet, clock: FixedClock, tmp_path: Path
) -> None:
    at = clock.now() - timedelta(hours=5)
    before = evaluate_accounts(demo_store, rules, at)
    account = before.accounts[0].account_id
    late = tmp_path / "late.jsonl"
    lines = [
        {
            "type": "track",
            "event": "Signed In",
            "userId": "late-user",
            "messageId": f"late-{i}",
            "context": {"groupId": account},
            "timestamp": (at + timedelta(minutes=1 + i)).isoformat().replace("+00:00", "Z"),
        }
        for i in range(30)
    ]
    late.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    report = import_events(demo_store, late, IngestSettings(), clock=clock)
    assert report.accepted == 30
    after = evaluate_accounts(demo_store, rules, at)
    assert before.result(account).metrics == after.result(account).metrics
    # Later in the same day the 7-day window covers the same days plus those events.
    later = evaluate_accounts(demo_store, rules, clock.now())
    logins = later.result(account).metrics["logins_7d"]
    assert isinstance(logins, int)
    assert logins >= (after.result(account).metrics["logins_7d"] or 0) + 30


def test_former_customers_are_not_evaluated(
    demo_store: Engine, rules: RuleSet, clock: FixedClock
) -> None:
    evaluation = evaluate_accounts(demo_store, rules, clock.now())
    assert all(not f.former_customer for f in evaluation.facts.values())
    assert {r.account_id for r in evaluation.accounts} == set(evaluation.facts)


def test_checkpoints_compute_only_the_metrics_for_conditions_read(rules: RuleSet) -> None:
    metrics, needs_score = checkpoint_metrics(rules)
    names = {m.name for m in metrics}
    assert not needs_score
    # usage_drop (for 2d) reads logins_change_14d, which is computed from logins_14d.
    assert {"logins_change_14d", "logins_14d", "onboarding", "seat_utilization"} <= names
    # help_spike has no `for`: its metrics are needed at T only.
    assert "help_views_vs_baseline" not in names
    assert len(names) < len(rules.metrics)


def test_cli_json_has_one_object_per_account_with_the_documented_fields(
    demo_store: Engine,
    db_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    at = clock.now().isoformat()
    result = CliRunner().invoke(
        app, ["--database-url", db_url, "evaluate", "--at", at, "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert records and {"account_id", "tier", "score", "band", "metrics", "alerts"} <= set(
        records[0]
    )
    firing = [a for r in records for a in r["alerts"]]
    assert firing and {"rule", "kind", "severity", "state"} <= set(firing[0])
    with demo_store.connect() as conn:  # --dry-run stores nothing
        assert conn.scalar(select(func.count()).select_from(health_snapshots)) == 0


def test_cli_explain_shows_every_number_behind_the_verdict(
    demo_store: Engine,
    db_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    evaluation = evaluate_accounts(demo_store, load_rules(RULES), clock.now())
    account = next(r for r in evaluation.accounts if r.firing)
    result = CliRunner().invoke(
        app,
        ["--database-url", db_url, "explain", account.account_id, "--at", clock.now().isoformat()],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert f"tier {account.tier}" in result.output
    assert "Scorecard" in result.output and "Alert rules" in result.output
    assert account.firing[0].rule in result.output
    missing = CliRunner().invoke(app, ["--database-url", db_url, "explain", "nope"])
    assert missing.exit_code == 1
    assert "There is no account 'nope' in the store." in missing.output
