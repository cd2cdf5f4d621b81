"""Builders for the daemon tests: drop-folder files, config files, log polling."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSMS = ("jane@example.com", "max@example.com")


def write_csv(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """Write under a hidden name, then rename: a running daemon's sync never sees half."""
    hidden = path.with_name(f".{path.name}")
    with hidden.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return hidden.rename(path)


def drop_portfolio(
    folder: Path, at: datetime, accounts: int = 4, prefix: str = "Account", first: int = 0
) -> None:
    """Accounts whose contracts end in 20 days: each has a renewal alert due at ``at``
    (and, without any usage, a dormant alert). Names are ``f"{prefix} {n}"``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(
        folder / "accounts.csv",
        [
            {
                "account_id": f"acc-{n}",
                "name": f"{prefix} {n}",
                "arr": 10_000 + n,
                "seats": 10,
                "csm_email": CSMS[n % len(CSMS)],
                "created_at": (at - timedelta(days=400)).date().isoformat(),
            }
            for n in range(first, first + accounts)
        ],
    )
    write_csv(
        folder / "contracts.csv",
        [
            {
                "contract_id": f"c-{n}",
                "account_id": f"acc-{n}",
                "start": (at - timedelta(days=345)).date().isoformat(),
                "end": (at + timedelta(days=20)).date().isoformat(),
                "arr": 10_000 + n,
                "status": "active",
            }
            for n in range(first, first + accounts)
        ],
    )


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, top: Mapping[str, object], **sections: Mapping[str, object]) -> Path:
    lines = [f"{key} = {toml_value(value)}" for key, value in top.items()]
    for name, values in sections.items():
        lines.append(f"\n[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds (a bounded wait for
    another process, never a timing assumption)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


class Daemon:
    """A ``csmon run`` subprocess whose log (stderr) goes to a file."""

    def __init__(self, folder: Path, config: Path, env: Mapping[str, str], name: str = "d") -> None:
        self.log_path = folder / f"{name}.log"
        self.out_path = folder / f"{name}.out"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CSMON_")}
        environ.update(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=folder,
            env=environ,
            stdout=self.out_path.open("wb"),
            stderr=self.log_path.open("wb"),
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, text: str, timeout: float = 30.0, count: int = 1) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None and self.log.count(text) < count:
                raise AssertionError(f"csmon run exited ({self.proc.returncode}):\n{self.log}")
            return self.log.count(text) >= count

        wait_for(f"{text!r} in the log", seen, timeout)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
