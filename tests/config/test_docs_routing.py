"""The routing examples in the docs do what their comments and tables say.

Loaded through the real config loader and routed by the real router, with Slack and
SMTP both configured (as the docs' tables assume).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from monitor.alerting.routing import RouteInput, Router
from monitor.config import load_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHANNELS = '[slack]\ntoken = "xoxb-docs"\n[email]\nsmtp_host = "smtp.example.com"\n'


def routing_example(doc: str) -> str:
    """The ``toml`` block that configures ``[routing]`` and ``[[routes]]`` in ``doc``."""
    blocks = re.findall(r"```toml\n(.*?)```", (DOCS / doc).read_text(encoding="utf-8"), re.S)
    (example,) = [block for block in blocks if "[routing]" in block and "[[routes]]" in block]
    return example


def alert(kind: str, tier: str, severity: str, owner: str | None, **attrs: str) -> RouteInput:
    return RouteInput(kind, tier, severity, f"{kind}_rule", owner, attrs)


@pytest.mark.parametrize("doc", ["alerts.md", "configuration.md"])
def test_the_documented_routing_example_routes_as_its_table_says(tmp_path: Path, doc: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CHANNELS + routing_example(doc), encoding="utf-8")
    router = Router.from_settings(load_settings(config))

    def goes_to(route_input: RouteInput) -> set[tuple[str, str]]:
        return {(d.channel, d.target) for d in router.destinations(route_input)}

    jane = "jane@example.com"
    jane_everywhere = {("slack", f"user:{jane}"), ("email", jane)}
    strategic = ("slack", "#strategic-accounts")
    # The first route continues: the owner hears about it too (the last route).
    assert goes_to(alert("churn_risk", "S", "critical", jane)) == {strategic, *jane_everywhere}
    assert goes_to(alert("renewal", "S", "critical", jane, region="emea")) == {
        strategic,
        *jane_everywhere,
        ("email", "renewals-emea@example.com"),
    }
    assert goes_to(alert("opportunity", "A", "info", jane)) == {("slack", f"user:{jane}")}
    assert goes_to(alert("churn_risk", "B", "warning", None)) == {("slack", "#cs-unowned")}


def test_the_docs_show_the_same_routing_example() -> None:
    assert tomllib.loads(routing_example("alerts.md")) == (
        tomllib.loads(routing_example("configuration.md"))
    )
