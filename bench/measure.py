"""Running one benchmark step in a process of its own, and what is measured of it.

Each step runs in a fresh ``spawn``-ed process, so its peak memory (``ru_maxrss``)
is its own and not the high-water mark of an earlier step, and no cache of an earlier
step (SQLAlchemy's compiled statements, the SQLite page cache) helps it. Wall time is
taken inside the process around the step alone: the interpreter's start and imports
are not counted.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True)
class Measured(Generic[R_co]):
    """A step's result with its cost."""

    value: R_co
    seconds: float
    cpu_seconds: float
    """User + system time of the step's process: above ``seconds`` when its threads
    overlapped (csmon's importer parses the next batch while writing one)."""
    peak_rss_mb: float
    """The process's peak resident memory, whole process (Python and libraries
    included, about 80 MB before any work); a database server's memory is not in it.
    Read from ``VmHWM`` where Linux has it: ``ru_maxrss`` would also count the parent's
    memory at the fork that started the process (Linux carries it across ``exec``)."""
    load: float
    """The machine's 1-minute load average when the step started: other work on the
    machine slows the step when this is above the cores left free."""


def in_child(step: Callable[..., R], *args: object, profile: Path | None = None) -> Measured[R]:
    """Run ``step(*args)`` in a fresh process and measure it there.

    With ``profile``, the step runs under pyinstrument, whose report is written to
    ``profile`` (text) and beside it as ``.html``. pyinstrument samples the step's own
    thread only: the importer's read-ahead thread (parsing) is not in the profile.
    """
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_measured, step, args, profile).result()


def _measured(
    step: Callable[..., R], args: tuple[object, ...], profile: Path | None
) -> Measured[R]:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    value = step(*args) if profile is None else _profiled(step, args, profile)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return Measured(
        value=value,
        seconds=seconds,
        cpu_seconds=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        peak_rss_mb=peak_rss_mb(after),
        load=load,
    )


def peak_rss_mb(usage: resource.struct_rusage) -> float:
    """This process's own peak RSS: ``VmHWM`` of /proc/self/status, else ``ru_maxrss``."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return usage.ru_maxrss / 1024  # KiB on Linux (bytes on macOS: only a fallback)


def _profiled(step: Callable[..., R], args: tuple[object, ...], path: Path) -> R:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        return step(*args)
    finally:
        profiler.stop()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(profiler.output_text(unicode=True, show_all=False))
        path.with_suffix(".html").write_text(profiler.output_html())
