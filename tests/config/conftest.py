"""Every config test starts from a clean slate: no CSMON_* settings from the caller's
environment, and an empty working directory (so no stray ./config.toml)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_csmon_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith("CSMON_") and name != "CSMON_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
