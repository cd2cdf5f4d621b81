"""Hot reload of the rules, the templates and the routing part of the config.

What the daemon works with is one immutable :class:`Snapshot`; a reload builds a new
one and swaps it in with a single reference assignment, so a job that started with the
old snapshot finishes with it and the next job sees the new one. Nothing is ever half
reloaded:

1. A fingerprint (SHA-256 over the bytes of ``rules_dir/*.toml``, every file under
   ``alerts_dir`` and the config file) is taken every ``reload_interval_seconds`` and
   on SIGHUP; unchanged → nothing to do.
2. The templates are copied to a private folder of the daemon's, so what is validated
   is exactly what will be used, and a later broken edit on disk cannot reach the
   messages of the snapshot in force.
3. Everything is validated before anything is swapped: the rules with
   :func:`load_rules` (every problem, ``file:line:col``), the staged templates with
   :func:`check_templates`, the config with :func:`load_settings`.
4. Valid → swap and log "reloaded". Invalid → every problem is logged, then "keeping
   the last good rules", and the ops receivers hear about it once per distinct broken
   fingerprint (not on every poll).

Only ``routing`` and ``routes`` are taken from a changed config file; other changes
(database, ports, intervals) are logged as needing a restart.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from monitor.clock import Clock
from monitor.config import Settings, load_settings
from monitor.errors import CsmonError
from monitor.notify import check_templates
from monitor.rules.loader import load_rules
from monitor.rules.model import RuleSet
from monitor.rules.problems import RuleError

log = logging.getLogger(__name__)

RELOADABLE_SETTINGS = ("routing", "routes")
OpsNotifier = Callable[[str, Sequence[str]], None]
"""Tells the ops receivers: (one-sentence summary, the problems)."""


@dataclass(frozen=True)
class Snapshot:
    """Everything a job needs that ops may change while the daemon runs."""

    rules: RuleSet
    settings: Settings
    templates_dir: Path
    """A private copy of ``alerts_dir``, validated; never edited in place."""
    fingerprint: str
    """Of the sources the snapshot was built from (see :func:`source_fingerprint`)."""
    loaded_at: datetime


class ReloadResult(Enum):
    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    INVALID = "invalid"


def source_fingerprint(rules_dir: Path, alerts_dir: Path, config_path: Path | None) -> str:
    """SHA-256 over the names and bytes of every reloadable source file."""
    digest = hashlib.sha256()
    files: list[tuple[str, Path]] = []
    if rules_dir.is_dir():
        files += [(f"rules/{p.name}", p) for p in sorted(rules_dir.glob("*.toml")) if p.is_file()]
    if alerts_dir.is_dir():
        files += [
            (f"alerts/{p.relative_to(alerts_dir)}", p)
            for p in sorted(alerts_dir.rglob("*"))
            if p.is_file()
        ]
    if config_path is not None and config_path.is_file():
        files.append(("config", config_path))
    for name, path in files:
        try:
            content = path.read_bytes()
        except OSError:  # deleted between listing and reading: the next poll sees it
            content = b"\0unreadable"
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


class Reloader:
    """Holds the current :class:`Snapshot` and replaces it when the sources change."""

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | None,
        clock: Clock,
        notify_ops: OpsNotifier,
    ) -> None:
        self._base = settings
        self._config_path = config_path
        self._clock = clock
        self._notify_ops = notify_ops
        self._staging = Path(tempfile.mkdtemp(prefix="csmon-templates-"))
        self._versions = 0
        self._reported: set[str] = set()
        self._failed: str | None = None
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._file_view = self._non_reloadable(config_path)

    @property
    def current(self) -> Snapshot:
        if self._current is None:
            raise RuntimeError("load() first")
        return self._current

    def load(self) -> Snapshot:
        """The first snapshot; raises :class:`CsmonError` listing every problem, since
        there are no last good rules to fall back on."""
        with self._lock:
            fingerprint = self._fingerprint()
            built = self._build(fingerprint)
            if isinstance(built, list):
                raise CsmonError(
                    "The rules or templates are invalid, so the daemon cannot start:\n"
                    + "\n".join(built)
                )
            self._current = built
            return built

    def check(self, *, force: bool = False) -> ReloadResult:
        """Reload if the sources changed (``force``: re-validate even if not, for SIGHUP).

        Thread-safe: the poll job and a SIGHUP may call it at the same time; the
        second waits and then finds nothing new.
        """
        with self._lock:
            fingerprint = self._fingerprint()
            unchanged = fingerprint == self.current.fingerprint
            if unchanged and not force:
                return ReloadResult.UNCHANGED
            if fingerprint == self._failed and not force:
                return ReloadResult.INVALID  # reported when it was first seen
            built = self._build(fingerprint)
            if isinstance(built, list):
                self._reject(fingerprint, built)
                return ReloadResult.INVALID
            self._swap(built, unchanged=unchanged)
            return ReloadResult.RELOADED

    def close(self) -> None:
        shutil.rmtree(self._staging, ignore_errors=True)

    # -- steps -----------------------------------------------------------------------

    def _fingerprint(self) -> str:
        return source_fingerprint(self._base.rules_dir, self._base.alerts_dir, self._config_path)

    def _build(self, fingerprint: str) -> Snapshot | list[str]:
        """Steps 2-3: the new snapshot, or every problem found."""
        problems: list[str] = []
        rules: RuleSet | None = None
        try:
            rules = load_rules(self._base.rules_dir)
        except RuleError as exc:
            problems += [str(p).splitlines()[0] for p in exc.problems]
        settings = self._reloaded_settings(problems)
        staged = self._stage_templates(problems)
        if staged is not None:
            problems += check_templates(staged)
        if problems or rules is None or settings is None or staged is None:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
            return problems
        return Snapshot(rules, settings, staged, fingerprint, self._clock.now())

    def _reloaded_settings(self, problems: list[str]) -> Settings | None:
        if self._file_view is None or self._config_path is None:
            return self._base
        try:
            fresh = load_settings(self._config_path)
        except CsmonError as exc:
            problems.append(str(exc))
            return None
        if fresh.model_dump(exclude=set(RELOADABLE_SETTINGS)) != self._file_view:
            log.warning(
                "Config changes other than routing take effect after a restart",
                extra={"config": str(self._config_path)},
            )
        return self._base.model_copy(
            update={name: getattr(fresh, name) for name in RELOADABLE_SETTINGS}
        )

    @staticmethod
    def _non_reloadable(config_path: Path | None) -> dict[str, object] | None:
        """The config file's settings that need a restart, as read at start."""
        if config_path is None or not config_path.is_file():
            return None
        return load_settings(config_path).model_dump(exclude=set(RELOADABLE_SETTINGS))

    def _stage_templates(self, problems: list[str]) -> Path | None:
        self._versions += 1
        target = self._staging / f"v{self._versions}"
        try:
            shutil.copytree(self._base.alerts_dir, target)
        except OSError as exc:
            problems.append(f"{self._base.alerts_dir}: the templates cannot be read ({exc}).")
            return None
        return target

    def _reject(self, fingerprint: str, problems: list[str]) -> None:
        for problem in problems:
            log.error("%s", problem, extra={"reload": "invalid"})
        current = self.current
        log.error(
            "The edit is invalid (%d problems); keeping the last good rules and templates "
            "(loaded %s)",
            len(problems),
            f"{current.loaded_at:%Y-%m-%d %H:%M:%S} UTC",
            extra={"fingerprint": fingerprint[:12], "in_force": current.fingerprint[:12]},
        )
        self._failed = fingerprint
        if fingerprint in self._reported:
            return
        self._reported.add(fingerprint)
        summary = (
            f"csmon: an edit of the rules, templates or routing is invalid ({len(problems)} "
            "problems); the last good rules stay in force until it is fixed."
        )
        try:
            self._notify_ops(summary, problems)
        except Exception:  # telling ops must never break the reload itself
            log.exception("Could not notify the ops receivers about the invalid edit")

    def _swap(self, snapshot: Snapshot, *, unchanged: bool) -> None:
        previous = self._current
        self._current = snapshot  # the one atomic step
        self._failed = None
        log.info(
            "Reloaded the rules and templates%s: %d alert rules, %d renewal rules",
            " (unchanged, on request)" if unchanged else "",
            len(snapshot.rules.alerts),
            len(snapshot.rules.renewals),
            extra={"fingerprint": snapshot.fingerprint[:12]},
        )
        # Keep the previous copy: a job that started before the swap may still render
        # from it. Anything older is unused.
        keep = {snapshot.templates_dir, previous.templates_dir if previous else None}
        for folder in self._staging.iterdir():
            if folder not in keep:
                shutil.rmtree(folder, ignore_errors=True)
