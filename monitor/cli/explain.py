"""Rendering of ``csmon explain``: every number behind one account's verdicts."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from monitor.cli.console import out
from monitor.errors import CsmonError
from monitor.evaluation import Evaluation
from monitor.rules.expr import Value
from monitor.rules.model import RuleSet

STATE_STYLE = {"firing": "bold red", "pending": "yellow", "inactive": "dim"}


def show(value: Value) -> str:
    if value is None:
        return "[dim]no data[/]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def print_explanation(rules: RuleSet, evaluation: Evaluation, account_id: str) -> None:
    facts = evaluation.facts.get(account_id)
    if facts is None:
        raise CsmonError(f"There is no account {account_id!r} in the store.")
    result = evaluation.result(account_id)
    score = "no score" if result.score is None else f"{result.score:.1f}"
    out.print(
        f"[bold]{escape(facts.name)}[/] ({escape(account_id)}) at {evaluation.at:%Y-%m-%d %H:%M} "
        f"UTC — tier [bold]{result.tier}[/], health {score}, band [bold]{result.band}[/]"
    )
    out.print(f"Tier {result.tier}: {escape(result.tier_reason)}.")
    renewal = facts.renewal_date.isoformat() if facts.renewal_date else "unknown"
    out.print(
        f"ARR {facts.arr:,.0f} · seats {facts.seats} · owner {escape(facts.csm_email or '-')}"
        f" · renewal {renewal}"
        + (" · [yellow]stub account (not in the CRM yet)[/]" if facts.is_stub else "")
    )

    metrics = Table(title="Metrics", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    metrics.add_column("meaning")
    for metric in rules.metrics:
        metrics.add_row(
            metric.name, show(result.metrics.get(metric.name)), escape(metric.description)
        )
    out.print(metrics)

    card = Table(
        title=f"Scorecard: {score} ({result.coverage:.0%} of the weight has data)",
        title_justify="left",
    )
    for column in ("measure", "value", "points", "weight"):
        card.add_column(column, justify="left" if column == "measure" else "right")
    for measure in result.measures:
        card.add_row(
            escape(measure.measure.label),
            show(measure.value),
            "[dim]left out[/]" if measure.points is None else f"{measure.points:.0f}",
            f"{measure.measure.weight:g}",
        )
    out.print(card)
    if result.band == "unknown":
        out.print(
            f"Band unknown: only {result.coverage:.0%} of the scorecard weight has data "
            f"(at least {rules.scorecard.min_coverage:.0%} needed)."
        )

    verdicts = Table(title="Alert rules", title_justify="left")
    for column in ("rule", "state", "severity", "condition", "values seen"):
        verdicts.add_column(column)
    conditions = {r.name: r.when.source for r in rules.alerts}
    conditions |= {r.name: "days_to_renewal within a threshold" for r in rules.renewals}
    for verdict in result.verdicts:
        seen = ", ".join(f"{name}={show(value)}" for name, value in verdict.values.items())
        state = verdict.state + (
            f" (held {verdict.held_days}d)" if verdict.state == "pending" else ""
        )
        verdicts.add_row(
            verdict.rule,
            f"[{STATE_STYLE[verdict.state]}]{state}[/]",
            verdict.severity if verdict.state != "inactive" else "",
            escape(conditions.get(verdict.rule, "")),
            seen,
        )
    out.print(verdicts)
    for key, summary in result.summaries.items():
        out.print(f"• {escape(key)}: {escape(summary)}")
