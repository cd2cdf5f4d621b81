"""The benchmark's machinery at a tiny size: csmon and DuckDB must compute the same values.

Not a performance test (no figure is asserted): it keeps ``bench/run.py`` working and
its cross-check honest. It always uses SQLite, also when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def crosscheck() -> ModuleType:
    """bench/crosscheck.py (bench/ is a folder of scripts, not a package)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("crosscheck")
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.slow
def test_tiny_run_agrees_with_duckdb_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    out.write_text("# Results\n\nHand-written analysis stays.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSMON_")}
    options = {
        "--sizes": "30",
        "--days": "40",
        "--backends": "sqlite",
        "--threads": "1",
        "--workdir": str(tmp_path / "data"),
        "--out": str(out),
        "--json": str(tmp_path / "results.json"),
    }
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--no-demo",
            *(x for o in options.items() for x in o),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((tmp_path / "results.json").read_text())
    assert figures["mismatches"] == 0
    assert figures["uncovered"] == []
    (size,) = figures["sizes"]
    (sqlite,) = size["backends"]
    assert size["event_lines"] > 1_000 and size["next_hour_lines"] > 0
    assert sqlite["events"]["value"]["accepted"] == size["event_lines"]
    assert sqlite["cells"] >= 2 * 20 * 21  # two instants, every customer, 21 metrics
    assert "0 mismatches" in done.stdout
    results = out.read_text()
    assert "Hand-written analysis stays." in results
    assert "| csmon: import events |" in results


def test_cross_check_reports_a_differing_cell(crosscheck: ModuleType) -> None:
    ours = {"acc-1": {"logins_14d": 3, "nps_avg_90d": 8.5, "onboarding": False}}
    same = {"acc-1": {"logins_14d": 3, "nps_avg_90d": 8.5 + 1e-12, "onboarding": False}}
    names = ["logins_14d", "nps_avg_90d", "onboarding"]
    assert crosscheck.cross_check(ours, same, names).ok

    wrong = {"acc-1": {"logins_14d": 4, "nps_avg_90d": None, "onboarding": 0}}
    check = crosscheck.cross_check(ours, wrong, names)
    assert not check.ok
    assert [m.metric for m in check.mismatches] == ["logins_14d", "nps_avg_90d", "onboarding"]


def test_cross_check_reports_missing_accounts_and_uncovered_metrics(
    crosscheck: ModuleType,
) -> None:
    ours = {"acc-1": {"arr": 1.0, "new_metric": 2}, "acc-2": {"arr": 5.0, "new_metric": 1}}
    reference = {"acc-1": {"arr": 1.0}}
    check = crosscheck.cross_check(ours, reference, ["arr", "new_metric"])
    assert check.missing_accounts == ["acc-2"]
    assert check.uncovered == ("new_metric",)
    assert not check.ok
