"""Routing: ordered routes, first match wins, continue, owner and fallback; config checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.alerting.routing import Destination, RouteInput, Router
from monitor.config import Settings, load_settings
from monitor.errors import ConfigError

JANE = "jane@example.com"
LOCAL = ("console", "file")


def alert(**fields: Any) -> RouteInput:
    defaults: dict[str, Any] = {
        "kind": "churn_risk",
        "tier": "A",
        "severity": "warning",
        "rule": "usage_drop",
        "owner": JANE,
        "attributes": {"region": "EMEA", "strategic": "true"},
    }
    defaults.update(fields)
    return RouteInput(**defaults)


def router(
    *routes: dict[str, Any], owner_channels: tuple[str, ...] = ("slack",), **routing: Any
) -> Router:
    settings = Settings(
        slack={"token": "xoxb-test"},
        email={"smtp_host": "smtp.example.com"},
        routes=list(routes),
        routing=routing,
    )
    return Router(
        settings.routes,
        default_receivers=settings.routing.default_receivers,
        fallback=settings.routing.fallback,
        owner_channels=owner_channels,
    )


def pairs(destinations: tuple[Destination, ...]) -> list[str]:
    return [f"{d.channel}:{d.target}" for d in destinations]


def test_without_routes_everything_goes_to_the_owner_on_the_default_channels() -> None:
    assert pairs(router().destinations(alert())) == [f"slack:user:{JANE}"]
    both = router(owner_channels=("slack", "email"))
    assert pairs(both.destinations(alert())) == [f"slack:user:{JANE}", f"email:{JANE}"]
    local = router(owner_channels=LOCAL)
    assert pairs(local.destinations(alert())) == [f"console:{JANE}", f"file:{JANE}"]


def test_the_default_settings_send_to_the_console_and_file_without_slack_or_smtp(
    tmp_path: Path,
) -> None:
    settings = Settings(notify={"file_path": str(tmp_path / "out.jsonl")})
    routed = Router.from_settings(settings).destinations(alert(owner="Jane@Example.com "))
    assert pairs(routed) == [f"console:{JANE}", f"file:{JANE}"]
    assert {d.recipient for d in routed} == {JANE}


def test_an_account_without_owner_goes_to_the_fallback() -> None:
    routes = router(fallback=["slack:#cs-unowned", "email:cs@example.com"])
    assert pairs(routes.destinations(alert(owner=None))) == [
        "slack:#cs-unowned",
        "email:cs@example.com",
    ]
    assert pairs(routes.destinations(alert(owner="  "))) == pairs(
        routes.destinations(alert(owner=None))
    )


def test_the_first_matching_route_wins() -> None:
    routes = router(
        {"match": {"kind": ["renewal"]}, "receivers": ["slack:#renewals"]},
        {"match": {"severity": ["critical"]}, "receivers": ["owner", "slack:#escalations"]},
        {"match": {}, "receivers": ["owner:email"]},
    )
    assert pairs(routes.destinations(alert(kind="renewal", severity="critical"))) == [
        "slack:#renewals"
    ]
    assert pairs(routes.destinations(alert(severity="critical"))) == [
        f"slack:user:{JANE}",
        "slack:#escalations",
    ]
    assert pairs(routes.destinations(alert())) == [f"email:{JANE}"]


def test_continue_lets_an_alert_fall_through_to_the_next_routes() -> None:
    routes = router(
        {"match": {"tier": ["S"]}, "receivers": ["slack:#strategic"], "continue": True},
        {"match": {"kind": ["churn_risk"]}, "receivers": ["owner"]},
        {"match": {}, "receivers": ["slack:#never"]},
    )
    assert pairs(routes.destinations(alert(tier="S"))) == ["slack:#strategic", f"slack:user:{JANE}"]
    assert pairs(routes.destinations(alert(tier="B"))) == [f"slack:user:{JANE}"]


def test_an_alert_no_route_matches_goes_to_the_default_receivers() -> None:
    routes = router(
        {"match": {"kind": ["renewal"]}, "receivers": ["slack:#renewals"]},
        default_receivers=["slack:#cs-alerts"],
    )
    assert pairs(routes.destinations(alert())) == ["slack:#cs-alerts"]


@pytest.mark.parametrize(
    ("attrs", "matched"),
    [
        ({"region": "EMEA"}, True),
        ({"region": "emea"}, True),
        ({"region": ["AMER", "EMEA"]}, True),
        ({"region": "AMER"}, False),
        ({"strategic": True}, True),
        ({"industry": "retail"}, False),
    ],
)
def test_routes_match_free_account_attributes(attrs: dict[str, Any], matched: bool) -> None:
    routes = router(
        {"match": {"attrs": attrs}, "receivers": ["slack:#matched"]},
        default_receivers=["slack:#other"],
    )
    assert pairs(routes.destinations(alert())) == ["slack:#matched" if matched else "slack:#other"]


def test_the_same_destination_is_named_once() -> None:
    routes = router(
        {"match": {}, "receivers": ["owner", "owner:slack", "slack:#x"], "continue": True},
        {"match": {}, "receivers": ["slack:#x"]},
    )
    assert pairs(routes.destinations(alert())) == [f"slack:user:{JANE}", "slack:#x"]


# --- validation at config load -----------------------------------------------------------


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[routes]]\nreceivers = ["pager"]\n', "unknown receiver 'pager'"),
        ('[[routes]]\nreceivers = ["slack:general"]\n', "unknown receiver 'slack:general'"),
        ('[[routes]]\nreceivers = ["email:nobody"]\n', "unknown receiver 'email:nobody'"),
        ('[routing]\nfallback = ["owner"]\n', "not 'owner'"),
        ('[[routes]]\nreceivers = ["slack:#cs"]\n', "'slack:#cs' needs slack, which is off"),
        ('[routing]\ndefault_receivers = ["owner:email"]\n', "needs email, which is off"),
        (
            '[[routes]]\nmatch = { kind = ["churn"] }\nreceivers = ["owner"]\n',
            "routes.0.match.kind",
        ),
        ('[[routes]]\nmatch = { colour = "red" }\nreceivers = ["owner"]\n', "not a known setting"),
    ],
)
def test_invalid_routing_is_a_config_error_naming_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, message: str
) -> None:
    for name in ("CSMON_SLACK__TOKEN", "CSMON_EMAIL__SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, toml))
    assert message in str(caught.value)


def test_routes_load_from_the_config_file_and_the_file_channel_follows_it(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[slack]\ntoken = "xoxb-test"\n[notify]\nfile_path = "out/alerts.jsonl"\n'
        "[routing]\nresolve_notices = true\n"
        '[[routes]]\nmatch = { kind = ["renewal"], attrs = { region = "EMEA" } }\n'
        'receivers = ["owner", "slack:#renewals"]\ncontinue = true\n',
    )
    settings = load_settings(path)
    assert settings.routing.resolve_notices
    assert settings.routes[0].continue_ and settings.routes[0].match.attrs == {"region": "EMEA"}
    assert settings.notify_file_path == tmp_path / "out" / "alerts.jsonl"


def test_routes_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSMON_SLACK__TOKEN", "xoxb-test")
    monkeypatch.setenv(
        "CSMON_ROUTES", '[{"match": {"tier": ["S"]}, "receivers": ["slack:#strategic"]}]'
    )
    settings = Settings()
    assert settings.routes[0].match.tier == ("S",)
    assert settings.routes[0].receivers == ("slack:#strategic",)
