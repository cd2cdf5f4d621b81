"""Error messages for broken rule files, compared with golden text exactly.

Each ``golden/NAME.toml`` is loaded as the only file of a rules folder called
``rules``; the rendered problems must equal ``golden/NAME.txt``. To accept new
output after a deliberate change: ``CSMON_UPDATE_GOLDEN=1 pytest tests/rules``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from monitor.rules.loader import load_rules
from monitor.rules.problems import RuleError

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.toml"))


def rendered_problems(case: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    rules = workdir / "rules"
    rules.mkdir()
    shutil.copy(GOLDEN / f"{case}.toml", rules / f"{case}.toml")
    monkeypatch.chdir(workdir)
    with pytest.raises(RuleError) as caught:
        load_rules(Path("rules"))
    return str(caught.value) + "\n"


@pytest.mark.parametrize("case", CASES)
def test_errors_match_golden_text(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = rendered_problems(case, tmp_path, monkeypatch)
    expected_file = GOLDEN / f"{case}.txt"
    if os.environ.get("CSMON_UPDATE_GOLDEN"):
        expected_file.write_text(got, encoding="utf-8")
    assert expected_file.exists(), f"no golden text for {case}: run with CSMON_UPDATE_GOLDEN=1"
    assert got == expected_file.read_text(encoding="utf-8")


def test_every_required_case_has_a_golden_file() -> None:
    required = {
        "unknown_key", "bad_duration", "unknown_metric", "expr_syntax", "toml_syntax",
        "metric_cycle", "missing_key", "duplicate_alert", "bad_summary", "of_not_window",
    }  # fmt: skip
    assert required <= set(CASES)
    assert all((GOLDEN / f"{case}.txt").exists() for case in CASES)
