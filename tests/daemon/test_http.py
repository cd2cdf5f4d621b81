"""/healthz and /metrics over real HTTP on 127.0.0.1, served by a daemon on the test store."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_testkit import ROOT, drop_portfolio
from sqlalchemy import Engine

from monitor.clock import FixedClock
from monitor.config import Settings
from monitor.daemon.http import HealthFacts, HttpServer, build_app, health_report
from monitor.daemon.run import build_daemon
from monitor.daemon.service import Daemon
from monitor.errors import CsmonError

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def daemon(engine: Engine, tmp_path: Path) -> Iterator[Daemon]:
    drop_portfolio(tmp_path / "drop", AT)
    settings = Settings(
        rules_dir=ROOT / "rules",
        alerts_dir=ROOT / "alerts",
        notify={"file_path": str(tmp_path / "sent.jsonl")},
        sync={"drop_dir": str(tmp_path / "drop")},
    )
    built = build_daemon(settings, engine, config_path=None, clock=FixedClock(AT))
    yield built
    built.leadership.release()
    built.reloader.close()


@pytest.fixture
def server(daemon: Daemon) -> Iterator[HttpServer]:
    http = HttpServer(build_app(daemon, daemon.metrics.registry), "127.0.0.1", 0).start()
    yield http
    http.stop()


def get(server: HttpServer, path: str) -> tuple[int, str, str]:
    url = f"http://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_healthz_follows_the_scheduler_and_the_evaluation_age(
    daemon: Daemon, server: HttpServer
) -> None:
    status, content_type, body = get(server, "/healthz")
    assert (status, content_type) == (503, "application/json")
    assert json.loads(body)["problems"] == ["the scheduler is not running"]

    daemon.scheduler_running = True
    status, _, body = get(server, "/healthz")
    health = json.loads(body)
    assert status == 200
    assert health["status"] == "ok" and health["role"] == "leader"
    assert health["database"] == "reachable"

    # The leader has not evaluated for more than two intervals (2 h): unhealthy.
    assert isinstance(daemon.clock, FixedClock)
    daemon.clock.advance(timedelta(hours=2, seconds=1))
    status, _, body = get(server, "/healthz")
    assert status == 503
    assert json.loads(body)["problems"] == [
        "the last evaluation is older than 2 evaluation intervals"
    ]
    daemon.evaluate()
    status, _, body = get(server, "/healthz")
    assert status == 200
    assert json.loads(body)["evaluation"]["age_seconds"] == 0


def test_metrics_report_evaluation_alerts_outbox_imports_and_leadership(
    daemon: Daemon, server: HttpServer
) -> None:
    daemon.sync()
    daemon.evaluate()
    status, content_type, text = get(server, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    samples = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert samples["csmon_is_leader"] == "1.0"
    assert samples["csmon_evaluation_accounts"] == "4.0"
    assert samples["csmon_evaluation_duration_seconds_count"] == "1.0"
    assert samples['csmon_alerts{state="firing"}'] == "8.0"  # renewal + dormant, 4 accounts
    assert samples['csmon_outbox_notifications{state="sent"}'] == "4.0"  # one per recipient
    assert samples['csmon_notifications_sent_total{channel="file"}'] == "2.0"
    assert samples['csmon_imported_rows_total{kind="accounts",outcome="accepted"}'] == "4.0"
    assert samples['csmon_import_files_total{kind="contracts",result="done"}'] == "1.0"


def test_health_report_names_every_problem() -> None:
    facts = HealthFacts(
        now=AT,
        scheduler_running=False,
        is_leader=False,
        database_error="OperationalError",
        evaluation_interval=timedelta(hours=1),
        last_evaluation_at=None,
        leader_since=None,
        rules_fingerprint="f" * 64,
    )
    status, body = health_report(facts)
    assert status == 503
    assert body["role"] == "standby" and body["database"] == "unreachable"
    assert body["problems"] == [
        "the scheduler is not running",
        "the database is unreachable: OperationalError",
    ]


def test_a_port_in_use_is_one_clear_error(daemon: Daemon, server: HttpServer) -> None:
    with pytest.raises(CsmonError, match=rf"Cannot listen on 127.0.0.1:{server.port}"):
        HttpServer(build_app(daemon, daemon.metrics.registry), "127.0.0.1", server.port)
