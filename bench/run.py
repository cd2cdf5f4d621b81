"""csmon vs DuckDB on the same portfolio, in one run: ``python bench/run.py``.

For each size: generate (or reuse) the demo portfolio, let DuckDB load it and compute
every metric at T and T + 1h, let csmon import it and evaluate at T, import the next
hour and evaluate at T + 1h, on each backend; check that both computed the same
values; print one table and write the generated block of RESULTS.md. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from crosscheck import cross_check
from csmon_steps import RULES, evaluate, fresh_store, import_event_file, setup_store
from duckdb_reference import run_reference
from measure import Measured, in_child
from report import render_markdown, render_text, write_results
from results import BackendRun, BenchRun, SizeRun
from workload import NEXT, Size, T, Workload, prepare

from monitor.rules.loader import load_rules

BENCH = Path(__file__).resolve().parent
BYTES_PER_EVENT_LINE = 210  # the demo's JSONL, measured; the stores need about as much again
BACKENDS = ("sqlite", "postgresql")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="2000,20000",
        help="portfolio sizes in accounts, comma-separated (default: 2000,20000)",
    )
    parser.add_argument("--days", type=int, default=90, help="days of usage before T")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="csmon stores: sqlite,postgresql"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "CSMON_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="PostgreSQL database for the postgresql backend (a schema of its own is "
        "created and dropped)",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--workdir", type=Path, default=BENCH / "data")
    parser.add_argument("--regenerate", action="store_true", help="do not reuse generated files")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="DuckDB threads")
    parser.add_argument("--no-duckdb", action="store_true", help="skip DuckDB and the cross-check")
    parser.add_argument("--no-demo", action="store_true", help="skip timing `csmon demo`")
    parser.add_argument(
        "--profile", type=Path, help="profile csmon's import and evaluation (pyinstrument) into DIR"
    )
    args = parser.parse_args(argv)
    args.size_list = [int(n.replace("_", "")) for n in args.sizes.split(",") if n.strip()]
    args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backend_list) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(sorted(unknown))}; use {', '.join(BACKENDS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when csmon and DuckDB agree everywhere, 1 otherwise."""
    args = parse_args(argv)
    bench = BenchRun(
        command=shlex.join(
            ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(args.pg_url if "postgresql" in args.backend_list else None),
        threads=args.threads,
    )
    metric_names = [m.name for m in load_rules(RULES).metrics]
    for accounts in args.size_list:
        size = Size(accounts=accounts, days=args.days)
        bench.sizes.append(run_size(size, args, metric_names))
    if not args.no_demo:
        note("csmon demo (500 accounts, SQLite) ...")
        bench.demo = in_child(time_demo)
        note(f"  {bench.demo.seconds:.1f} s, exit status {bench.demo.value}")
    print(render_text(bench))
    write_results(args.out, render_markdown(bench))
    note(f"wrote {args.out}")
    if args.json:
        args.json.write_text(json.dumps(summary(bench), indent=2, default=str))
    return 0 if bench.mismatches == 0 and not bench.uncovered else 1


def run_size(size: Size, args: argparse.Namespace, metric_names: list[str]) -> SizeRun:
    """Every measurement of one portfolio size (see the module docstring)."""
    check_disk(size, args.workdir)
    note(f"{size.label}: preparing the portfolio in {args.workdir} ...")
    # In a process of its own: the generator holds the whole portfolio in memory, and a
    # parent that big would inflate every later child's ru_maxrss (see measure.py).
    workload = in_child(partial(prepare, regenerate=args.regenerate), size, args.workdir).value
    generated = (
        "reused" if workload.generate_seconds is None else f"{workload.generate_seconds:.1f} s"
    )
    note(f"  {workload.event_lines:,} + {workload.next_hour_lines:,} event lines ({generated})")
    duck = None
    if not args.no_duckdb:
        duck = in_child(run_reference, workload, args.threads)
        note(
            f"  DuckDB: load {duck.value.load_seconds:.2f} s, "
            f"metrics {duck.value.query_seconds:.2f} s, peak RSS {duck.peak_rss_mb:,.0f} MB"
        )
    result = SizeRun(workload, duck)
    for backend in args.backend_list:
        run = run_backend(backend, workload, args)
        if duck is not None:
            for evaluated, at in ((run.full, T), (run.next_eval, NEXT)):
                run.checks.append(
                    cross_check(evaluated.value.metrics, duck.value.metrics[at], metric_names)
                )
                evaluated.value.metrics.clear()  # checked: the figures are what stays
            note(f"  cross-check: {run.mismatches:,} mismatches")
        result.backends.append(run)
    if duck is not None:
        duck.value.metrics.clear()  # only the checks needed them
    return result


def run_backend(backend: str, workload: Workload, args: argparse.Namespace) -> BackendRun:
    """csmon's five steps on a fresh store of ``backend``, each in a process of its own."""
    label = f"{workload.size.accounts}-{backend}"
    profile = args.profile
    with fresh_store(backend, workload.folder, args.pg_url) as url:
        crm = in_child(setup_store, url, workload)
        events = in_child(
            import_event_file,
            url,
            workload.events,
            profile=profile / f"{label}-import.txt" if profile else None,
        )
        note(
            f"  csmon {backend}: import {events.seconds:.1f} s = "
            f"{events.value.lines / events.seconds:,.0f} events/s, "
            f"peak RSS {events.peak_rss_mb:,.0f} MB"
        )
        full = in_child(
            evaluate, url, T, profile=profile / f"{label}-evaluate.txt" if profile else None
        )
        note(f"  csmon {backend}: full evaluation {full.seconds:.2f} s")
        next_import = in_child(import_event_file, url, workload.next_hour)
        next_eval = in_child(evaluate, url, NEXT)
        note(
            f"  csmon {backend}: next hour import {next_import.seconds:.2f} s, "
            f"evaluation {next_eval.seconds:.2f} s"
        )
    return BackendRun(backend, crm, events, full, next_import, next_eval)


def time_demo() -> int:
    """``csmon demo`` in a scratch folder, as a newcomer runs it; its exit status."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSMON_")}
    with tempfile.TemporaryDirectory(prefix="csmon-bench-demo-") as folder:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "demo", "--dir", str(Path(folder) / "demo")],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
    if done.returncode != 0:
        note(done.stderr.decode(errors="replace")[-2000:])
    return done.returncode


def check_disk(size: Size, workdir: Path) -> None:
    """Stop early, with a clear sentence, when the portfolio and its stores cannot fit."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = size.accounts * size.days * size.events_per_account_day
    needed = 2.5 * lines * BYTES_PER_EVENT_LINE  # the JSONL, the SQLite file, slack
    free = shutil.disk_usage(workdir).free
    if needed > free:
        raise SystemExit(
            f"{size.label} needs about {needed / 1e9:,.0f} GB in {workdir}, "
            f"only {free / 1e9:,.0f} GB are free: use a smaller --sizes or another --workdir"
        )


def machine(pg_url: str | None) -> str:
    """Cores, CPU model and the software versions the figures depend on."""
    import duckdb

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    parts = [
        f"csmon {source_version()}",
        f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'})",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        f"DuckDB {duckdb.__version__}",
    ]
    if pg_url:
        parts.append(postgres_version(pg_url))
    return ", ".join(parts)


def source_version() -> str:
    """The commit measured, ``-dirty`` when the work tree had uncommitted changes."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "(not a git checkout)"


def postgres_version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()
    return f"PostgreSQL {version.split()[0]}"


def summary(bench: BenchRun) -> dict[str, object]:
    """The figures as plain data (for ``--json``): metric values left out."""
    return {
        "command": bench.command,
        "started": bench.started,
        "machine": bench.machine,
        "mismatches": bench.mismatches,
        "uncovered": sorted(bench.uncovered),
        "demo": _measured(bench.demo),
        "sizes": [
            {
                "accounts": s.workload.size.accounts,
                "days": s.workload.size.days,
                "event_lines": s.workload.event_lines,
                "next_hour_lines": s.workload.next_hour_lines,
                "duckdb": _measured(s.duckdb, drop=("metrics",)),
                "backends": [
                    {
                        "backend": b.backend,
                        "mismatches": b.mismatches,
                        "cells": sum(c.cells for c in b.checks),
                        **{
                            step: _measured(getattr(b, step), drop=("metrics",))
                            for step in ("crm", "events", "full", "next_import", "next_eval")
                        },
                    }
                    for b in s.backends
                ],
            }
            for s in bench.sizes
        ],
    }


def _measured(measured: Measured[object] | None, drop: tuple[str, ...] = ()) -> object:
    if measured is None:
        return None
    data = asdict(measured)
    if isinstance(data.get("value"), dict):
        for key in drop:
            data["value"].pop(key, None)
    return data


def note(message: str) -> None:
    """Progress on stderr, so stdout holds the table alone."""
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
