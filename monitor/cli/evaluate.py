"""``csmon evaluate`` and ``csmon explain``: the portfolio's health, and why."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from monitor.alerting import evaluate_and_alert
from monitor.cli.console import note, out
from monitor.cli.context import AppContext
from monitor.cli.explain import print_explanation
from monitor.cli.timeopt import parse_instant
from monitor.errors import CsmonError
from monitor.evaluation import AccountResult, Evaluation, evaluate_accounts
from monitor.rules.loader import load_rules
from monitor.rules.model import SEVERITY_RANK

BAND_STYLE = {"green": "green", "yellow": "yellow", "red": "bold red", "unknown": "dim"}
BAND_ORDER = {"red": 0, "unknown": 1, "yellow": 2, "green": 3}
FUTURE_SLACK = timedelta(minutes=5)
"""How far ahead of the clock ``--at`` may be when results are stored (clock skew)."""
AT = typer.Option(
    None, "--at", help="Evaluate at this instant (ISO date or time, UTC); default now."
)


def evaluate(
    ctx: typer.Context,
    at: str | None = AT,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only show the results: store no snapshots, queue no alerts."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON array, one object per account."
    ),
    show_all: bool = typer.Option(False, "--all", help="List every account, green ones too."),
) -> None:
    """Evaluate every account: metrics, tier, health score and band, alert rules.

    Without --dry-run the results are stored (health snapshots for trends and the
    digest), alert state moves on and notifications are queued in the outbox for
    `csmon dispatch` or the daemon to send. Evaluating twice at the same instant gives
    the same result and queues nothing the second time.
    """
    app_ctx: AppContext = ctx.obj
    instant = parse_instant(at, app_ctx.clock)
    rules = load_rules(app_ctx.settings.rules_dir)
    outcome = None
    if dry_run:
        evaluation = evaluate_accounts(app_ctx.engine, rules, instant)
    else:
        if instant > app_ctx.clock.now() + FUTURE_SLACK:
            # Alert state would jump ahead, and every later evaluation before that
            # instant would leave the alerts alone (docs/alerts.md, section 1).
            raise CsmonError(
                f"--at {instant:%Y-%m-%d %H:%M} UTC is in the future; "
                "add --dry-run to preview it without storing anything."
            )
        outcome = evaluate_and_alert(app_ctx.engine, rules, app_ctx.settings, instant)
        evaluation = outcome.evaluation
    if as_json:
        out.file.write(orjson.dumps([as_record(r) for r in evaluation.accounts]).decode() + "\n")
    else:
        print_portfolio(evaluation, show_all=show_all)
    if outcome is None:
        note("Dry run: nothing was stored.")
        return
    summary = f"{outcome.describe()} — run `csmon dispatch` or the daemon to send them."
    (note if as_json else out.print)(summary)


def explain(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="The account id.", show_default=False),
    at: str | None = AT,
) -> None:
    """Show why an account has its tier, score, band and alerts: every metric with its
    value, each scorecard measure with its points, each rule with the values it saw."""
    app_ctx: AppContext = ctx.obj
    instant = parse_instant(at, app_ctx.clock)
    rules = load_rules(app_ctx.settings.rules_dir)
    evaluation = evaluate_accounts(app_ctx.engine, rules, instant)
    print_explanation(rules, evaluation, account)


def as_record(result: AccountResult) -> dict[str, Any]:
    return {
        "account_id": result.account_id,
        "tier": result.tier,
        "score": result.score,
        "band": result.band,
        "coverage": round(result.coverage, 3),
        "metrics": dict(result.metrics),
        "alerts": [
            {
                "rule": v.rule,
                "kind": v.kind,
                "severity": v.severity,
                "state": v.state,
                "key": v.key,
                "summary": result.summaries.get(v.key, ""),
            }
            for v in result.verdicts
            if v.state != "inactive"
        ],
    }


def print_portfolio(evaluation: Evaluation, *, show_all: bool, limit: int | None = None) -> None:
    results = evaluation.accounts
    out.print(
        f"Evaluated {len(results):,} accounts at {evaluation.at:%Y-%m-%d %H:%M} UTC "
        f"in {evaluation.seconds:.2f} s (rules {evaluation.fingerprint[:12]})."
    )
    out.print(_tier_band_table(evaluation))
    shown = [r for r in results if show_all or r.band != "green" or r.firing]
    shown.sort(key=lambda r: attention_order(r, evaluation))
    hidden = len(shown) - limit if limit is not None and len(shown) > limit else 0
    shown = shown[:limit] if hidden else shown
    table = Table(title="Accounts needing attention" if not show_all else "All accounts")
    for column, justify in (
        ("account", "left"),
        ("name", "left"),
        ("tier", "center"),
        ("score", "right"),
        ("band", "left"),
        ("ARR", "right"),
        ("alerts", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for result in shown:
        facts = evaluation.facts[result.account_id]
        firing = _alerts_cell(result)
        table.add_row(
            escape(result.account_id),
            escape(facts.name),
            result.tier,
            "-" if result.score is None else f"{result.score:.0f}",
            f"[{BAND_STYLE[result.band]}]{result.band}[/]",
            f"{facts.arr:,.0f}",
            escape(firing),
        )
    out.print(table)
    if hidden:
        out.print(f"... and {hidden:,} more (csmon evaluate lists them all).")


def attention_order(result: AccountResult, evaluation: Evaluation) -> tuple[float, ...]:
    """Most severe firing alert first, then the worse band, then the bigger ARR."""
    severity = max((SEVERITY_RANK[v.severity] for v in result.firing), default=-1)
    arr = evaluation.facts[result.account_id].arr
    return (-severity, BAND_ORDER[result.band], -arr)


def _alerts_cell(result: AccountResult) -> str:
    """The most severe firing alert, and how many more: one short line per account."""
    firing = sorted(result.firing, key=lambda v: -SEVERITY_RANK[v.severity])
    if not firing:
        return f"{len(result.pending)} pending" if result.pending else ""
    more = f" +{len(firing) - 1}" if len(firing) > 1 else ""
    return f"{firing[0].rule} ({firing[0].severity}){more}"


def _tier_band_table(evaluation: Evaluation) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    arr: dict[tuple[str, str], float] = {}
    for r in evaluation.accounts:
        counts[(r.tier, r.band)] += 1
        arr[(r.tier, r.band)] = arr.get((r.tier, r.band), 0.0) + evaluation.facts[r.account_id].arr
    table = Table(title="Accounts (ARR) by tier and band")
    table.add_column("tier")
    bands = ("green", "yellow", "red", "unknown")
    for band in bands:
        table.add_column(f"[{BAND_STYLE[band]}]{band}[/]", justify="right")
    for tier in ("S", "A", "B"):
        table.add_row(
            tier,
            *(f"{counts[(tier, b)]:,} ({arr.get((tier, b), 0.0):,.0f})" for b in bands),
        )
    return table
