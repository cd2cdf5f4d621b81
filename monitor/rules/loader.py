"""Loading ``rules/*.toml`` into one validated :class:`RuleSet`.

Every ``*.toml`` directly in the rules folder is read (``tests/`` holds rule unit
tests and is not part of the rules); the files are merged as if they were one, so
definitions may be split across files however ops like, but each is defined once.
All problems are collected and raised together as a :class:`RuleError`; nothing
half-valid is ever returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from monitor.rules.fields import Node
from monitor.rules.load_alerts import load_alert_rules
from monitor.rules.load_metrics import (
    ALERT_ONLY_NAMES,
    ATTRIBUTE_NAMES,
    load_event_sets,
    load_metrics,
    metric_nodes,
)
from monitor.rules.load_scoring import load_scorecard, load_tiering
from monitor.rules.model import RuleSet
from monitor.rules.problems import (
    Problems,
    RuleError,
    RuleProblem,
    SourceFile,
    parse_source,
)

SECTIONS = ("event_sets", "metrics", "tiers", "scorecard", "alert", "renewal")
_SINGLE = ("tiers", "scorecard")
_ARRAYS = ("alert", "renewal")
_HINTS = {
    "alerts": "alert rules are written as [[alert]] tables",
    "renewals": "renewal rules are written as [[renewal]] tables",
    "metric": "metrics are written as [metrics.NAME] tables",
    "tier": "tier rules are written as [[tiers.rule]] tables",
}


def load_rules(path: Path) -> RuleSet:
    """Load and validate the rule files in the folder ``path``.

    1. Read every ``*.toml`` directly in ``path``, in name order, and parse it; TOML
       syntax errors stop here (the rest cannot be checked without every file).
    2. Gather each section from every file: ``[event_sets]`` and ``[metrics.*]``
       entries, the one ``[tiers]`` and ``[scorecard]``, all ``[[alert]]`` and
       ``[[renewal]]``. A name defined twice is an error naming both places.
    3. Validate and build: event sets, metrics (dependency-ordered), tiers, the
       scorecard, alert and renewal rules; each expression compiled against the names
       it may use.
    4. Raise :class:`RuleError` with every problem, or return the :class:`RuleSet`
       with its fingerprint.
    """
    # Each file is read once: the fingerprint must describe exactly what was parsed,
    # even while ops are saving an edit.
    contents = {str(file): file.read_bytes() for file in rule_files(path)}
    sources, syntax_problems = read_sources(contents)
    if syntax_problems:
        raise RuleError(syntax_problems)
    problems = Problems()
    rules = build_rule_set(sources, problems, fingerprint(contents))
    problems.raise_if_any()
    return rules


def rule_files(path: Path) -> list[Path]:
    """The ``*.toml`` files directly in ``path``, sorted by name."""
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise RuleError([RuleProblem(str(path), 0, 0, f"the rules folder {what}")])
    files = sorted(p for p in path.glob("*.toml") if p.is_file())
    if not files:
        raise RuleError(
            [RuleProblem(str(path), 0, 0, "no rule files (*.toml) in the rules folder")]
        )
    return files


def read_sources(contents: Mapping[str, bytes]) -> tuple[list[SourceFile], list[RuleProblem]]:
    """Parse each file (name -> bytes); the problems are the TOML syntax errors."""
    sources: list[SourceFile] = []
    problems: list[RuleProblem] = []
    for name, raw in contents.items():
        parsed = parse_source(name, raw)
        if isinstance(parsed, RuleProblem):
            problems.append(parsed)
        else:
            sources.append(parsed)
    return sources, problems


def fingerprint(contents: Mapping[str, bytes]) -> str:
    """SHA-256 over the sorted file names (without their folder) and their bytes:
    where the folder is does not matter; any edit, rename or new file changes it."""
    digest = hashlib.sha256()
    for name, content in sorted((Path(path).name, raw) for path, raw in contents.items()):
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def build_rule_set(sources: Sequence[SourceFile], problems: Problems, digest: str) -> RuleSet:
    """Steps 2-3 of :func:`load_rules` over parsed files (problems collected, not raised)."""
    sections = _gather(sources, problems)
    tiers = _single(sections["tiers"], "tiers")
    scorecard = _single(sections["scorecard"], "scorecard")
    event_sets = load_event_sets(sections["event_sets"])
    nodes = metric_nodes(sections["metrics"])
    metrics = load_metrics(nodes, event_sets)
    attribute_names = ATTRIBUTE_NAMES | nodes.keys()
    descriptions = {metric.name: metric.description for metric in metrics}
    tiering = load_tiering(tiers, attribute_names)
    score = load_scorecard(scorecard, descriptions | {n: n for n in nodes if n not in descriptions})
    alerts, renewals = load_alert_rules(
        sections["alert"], sections["renewal"], attribute_names | ALERT_ONLY_NAMES
    )
    return RuleSet(
        metrics=metrics,
        tiering=tiering,
        scorecard=score,
        alerts=alerts,
        renewals=renewals,
        fingerprint=digest,
        files=tuple(source.name for source in sources),
    )


def _gather(sources: Sequence[SourceFile], problems: Problems) -> dict[str, list[Node]]:
    sections: dict[str, list[Node]] = {name: [] for name in SECTIONS}
    for source in sources:
        root = Node(source, (), source.data, problems)
        root.check_keys(SECTIONS, _HINTS)
        for name in SECTIONS:
            if name not in source.data:
                continue
            if name in _ARRAYS:
                sections[name].extend(root.children(name))
            else:
                child = root.child(name)
                if child is not None:
                    sections[name].append(child)
    return sections


def _single(nodes: Sequence[Node], section: str) -> Node | None:
    """A table that only one file may define; later definitions are reported."""
    for extra in nodes[1:]:
        extra.report(extra.here(), f"[{section}] is already defined at {nodes[0].origin()}")
    return nodes[0] if nodes else None


__all__ = ["RuleError", "RuleProblem", "load_rules"]
