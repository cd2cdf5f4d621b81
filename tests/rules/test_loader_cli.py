"""``csmon rules check`` and ``csmon rules test`` as a user runs them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

SHIPPED = Path(__file__).parents[2] / "rules"


def copy_rules(target: Path) -> Path:
    shutil.copytree(SHIPPED, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_check_passes_on_the_shipped_rules(runner: CliRunner, cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["rules", "check", str(SHIPPED)], env=cli_env)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"OK: 21 metrics, 3 tier rules, 7 scorecard measures, 11 alert rules, "
        r"1 renewal rules \(fingerprint [0-9a-f]{12}…\)\n",
        result.output,
    )


def test_check_reads_the_configured_rules_dir(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    copy_rules(tmp_path / "rules")  # cli_env runs in tmp_path: rules_dir = ./rules
    result = runner.invoke(app, ["rules", "check"], env=cli_env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["rules", "check"], env=cli_env | {"CSMON_RULES_DIR": "nowhere"})
    assert result.exit_code == 1
    assert "nowhere: the rules folder does not exist" in result.output


def test_check_lists_every_problem_of_a_broken_copy(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    rules = copy_rules(tmp_path / "rules")
    edit(rules / "metrics.toml", 'window = "30d"', 'window = "30"')
    edit(rules / "alerts.toml", 'severity = "critical"', 'severity = "urgent"')
    edit(rules / "tiers.toml", "arr >= 20000", "arr >= 20000 and")
    result = runner.invoke(app, ["rules", "check", "rules"], env=cli_env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert [line for line in lines if re.match(r"rules/\w+\.toml:\d+:\d+: ", line)] == [
        'rules/alerts.toml:86:13: severity: expected "info", "warning" or "critical", got "urgent"',
        'rules/metrics.toml:42:11: window: expected a duration like "14d" or "2w", got "30"',
        *[line for line in lines if line.startswith("rules/tiers.toml:17:")],
    ]
    assert len([line for line in lines if line.startswith("rules/tiers.toml:17:")]) == 1
    assert lines[-1] == "3 problems found."


@pytest.mark.slow
def test_test_runs_the_default_rule_tests(runner: CliRunner, cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["rules", "test", str(SHIPPED)], env=cli_env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "✓ tier S by ARR" in lines
    assert re.fullmatch(r"\d+ passed", lines[-1])


def test_test_reports_failures_and_exits_1(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    rules = copy_rules(tmp_path / "rules")
    (rules / "tests" / "defaults.toml").unlink()
    (rules / "tests" / "mine.toml").write_text(
        '[[test]]\nname = "passes"\nat = 2026-03-02T09:00:00Z\n'
        'account = { arr = 150000 }\nmetrics = {}\nexpect = { tier = "S" }\n\n'
        '[[test]]\nname = "fails"\nat = 2026-03-02T09:00:00Z\n'
        'account = { arr = 100 }\nmetrics = {}\nexpect = { tier = "A" }\n'
    )
    result = runner.invoke(app, ["rules", "test", "rules"], env=cli_env)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "✓ passes",
        "✗ fails  (rules/tests/mine.toml:8:1)",
        "    tier: expected A, got B (rule 3: true)",
        "1 passed, 1 failed",
    ]


def test_test_with_a_broken_test_file_names_the_place(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    rules = copy_rules(tmp_path / "rules")
    (rules / "tests" / "defaults.toml").write_text(
        '[[test]]\nname = "typo"\nat = 2026-03-02T09:00:00Z\nmetrics = {}\n'
        'expect = { alerts = ["dormnat"] }\n'
    )
    result = runner.invoke(app, ["rules", "test", "rules"], env=cli_env)
    assert result.exit_code == 1
    assert result.output.startswith(
        'rules/tests/defaults.toml:5:23: alerts: unknown rule "dormnat" (did you mean "dormant"?)\n'
    )
    assert result.output.splitlines()[-1] == "1 problem found."


def test_test_without_tests_fails(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    rules = copy_rules(tmp_path / "rules")
    shutil.rmtree(rules / "tests")
    result = runner.invoke(app, ["rules", "test", "rules"], env=cli_env)
    assert result.exit_code == 1
    assert "rules/tests: the rule tests folder does not exist" in result.output
