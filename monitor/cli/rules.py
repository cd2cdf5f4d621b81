"""``csmon rules check|test``: validate the rule files and run their unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from monitor.cli.context import AppContext
from monitor.rules.model import RuleSet
from monitor.rules.problems import RuleError

app = typer.Typer(
    help="Validate the rule files (check) and run the rule unit tests (test).",
    no_args_is_help=True,
)

PATH = typer.Argument(
    None,
    help="The rules folder (default: rules_dir from the configuration).",
    show_default=False,
)


@app.command()
def check(ctx: typer.Context, path: Path | None = PATH) -> None:
    """Validate every rule file; print each problem as file:line:col, or a summary."""
    rules = _load(_rules_dir(ctx, path))
    typer.echo(
        f"OK: {len(rules.metrics)} metrics, {len(rules.tiering.rules)} tier rules, "
        f"{len(rules.scorecard.measures)} scorecard measures, {len(rules.alerts)} alert rules, "
        f"{len(rules.renewals)} renewal rules (fingerprint {rules.fingerprint[:12]}…)"
    )


@app.command()
def test(
    ctx: typer.Context,
    path: Path | None = PATH,
    tests: Path | None = typer.Option(
        None,
        "--tests",
        help="A test file or folder (default: the tests/ folder inside the rules folder).",
        show_default=False,
    ),
) -> None:
    """Run the rule unit tests (input account + events or metrics + instant ->
    expected tier, band, score, alerts): one line per test, details for failures."""
    from monitor.rules.testing import run_rule_tests

    rules_dir = _rules_dir(ctx, path)
    rules = _load(rules_dir)
    tests_path = tests or rules_dir / "tests"
    try:
        results = run_rule_tests(rules, tests_path)
    except RuleError as exc:
        _problems(exc)
    failed = 0
    for result in results:
        case = result.case
        if result.passed:
            typer.secho(f"✓ {case.name}", fg="green")
            continue
        failed += 1
        typer.secho(f"✗ {case.name}  ({case.origin})", fg="red", bold=True)
        if result.error:
            typer.echo(f"    could not run: {result.error}")
        for failure in result.failures:
            typer.echo(f"    {failure}")
    passed = len(results) - failed
    summary = f"{passed} passed, {failed} failed" if failed else f"{passed} passed"
    typer.secho(summary, fg="red" if failed else "green", bold=True)
    if failed or not results:
        raise typer.Exit(1)


def _rules_dir(ctx: typer.Context, path: Path | None) -> Path:
    if path is not None:
        return path
    app_ctx: AppContext = ctx.obj
    return app_ctx.settings.rules_dir


def _load(path: Path) -> RuleSet:
    from monitor.rules.loader import load_rules

    try:
        return load_rules(path)
    except RuleError as exc:
        _problems(exc)


def _problems(exc: RuleError) -> NoReturn:
    """Print every problem (plain text: carets must line up) and exit 1."""
    for problem in exc.problems:
        typer.echo(str(problem))
    count = len(exc.problems)
    typer.secho(f"{count} problem{'s' * (count != 1)} found.", fg="red", bold=True)
    raise typer.Exit(1)
