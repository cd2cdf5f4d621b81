"""``csmon run`` as operators run it: a real process, its log, files edited under it,
signals; and (slow, PostgreSQL) two replicas with a leader killed mid-run."""

from __future__ import annotations

import json
import re
import shutil
import signal
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from daemon_testkit import ROOT, Daemon, drop_portfolio, wait_for, write_config
from sqlalchemy import Engine, select
from support.slack_api import TOKEN, FakeSlackApi

from monitor.store.schema import outbox

BROKEN = 'when = "logins_chnage_14d <= -0.4 and not onboarding"'
GOOD = 'when = "logins_change_14d <= -0.4 and not onboarding"'


def setup_folder(tmp_path: Path, db_url: str, **sections: dict[str, object]) -> Path:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "alerts", tmp_path / "alerts")
    return write_config(
        tmp_path / "config.toml",
        {"database_url": db_url},
        notify={"file_path": "sent.jsonl"},
        daemon={"reload_interval_seconds": 0.2, "leader_retry_seconds": 0.5},
        **sections,
    )


def http_port(daemon: Daemon) -> int:
    found = re.search(r"HTTP listener on http://127\.0\.0\.1:(\d+)", daemon.log)
    assert found, daemon.log
    return int(found.group(1))


def edit(path: Path, old: str, new: str) -> None:
    """Replace the file in one step, as editors do: the daemon's poll never sees it
    half written."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text.replace(old, new, 1), encoding="utf-8")
    temporary.replace(path)


@pytest.mark.slow
def test_daemon_serves_reloads_and_stops_cleanly(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    config = setup_folder(tmp_path, db_url, http={"port": 0})
    daemon = Daemon(tmp_path, config, {})
    try:
        daemon.wait_log("csmon daemon started as leader")
        port = http_port(daemon)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as reply:
            assert reply.status == 200
            assert json.loads(reply.read())["role"] == "leader"

        alerts_toml = tmp_path / "rules" / "alerts.toml"
        edit(alerts_toml, GOOD, GOOD.replace("-0.4", "-0.5"))
        daemon.wait_log("Reloaded the rules and templates")

        edit(alerts_toml, GOOD.replace("-0.4", "-0.5"), BROKEN.replace("-0.4", "-0.5"))
        daemon.wait_log("keeping the last good rules")
        assert re.search(
            rf"ERROR monitor\.daemon\.reload: {re.escape(str(alerts_toml))}:11:\d+: ", daemon.log
        )

        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_log("SIGHUP: reloading")
        daemon.wait_log("keeping the last good rules", count=2)  # re-checked, still broken

        assert daemon.stop() == 0
        lines = daemon.log.strip().splitlines()
        stopping = next(i for i, line in enumerate(lines) if "SIGTERM: stopping" in line)
        assert any("Released the leader lock" in line for line in lines[stopping:])
        assert lines[-1].endswith("csmon daemon stopped")
        assert "Traceback" not in daemon.log
    finally:
        daemon.kill()


@pytest.mark.slow
def test_a_second_daemon_on_one_sqlite_database_refuses_to_start(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL replicas are welcome (see the failover test)")
    config = setup_folder(tmp_path, db_url)
    first = Daemon(tmp_path, config, {}, name="first")
    try:
        first.wait_log("csmon daemon started")
        second = Daemon(tmp_path, config, {}, name="second")
        assert second.proc.wait(30) == 1
        out = second.out_path.read_text() + second.log
        assert "Another csmon daemon is already running on" in out
        assert "Traceback" not in out
        assert first.stop() == 0
    finally:
        first.kill()


@pytest.mark.slow
def test_failover_delivers_every_alert_exactly_once(
    engine: Engine, db_url: str, tmp_path: Path, slack_api: FakeSlackApi
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas need PostgreSQL")
    now = datetime.now(UTC)
    drop = tmp_path / "drop"
    drop_portfolio(drop, now, prefix="First")
    config = setup_folder(
        tmp_path,
        db_url,
        sync={"drop_dir": "drop", "interval_minutes": 0.01},
        evaluation={"interval_minutes": 0.05},
        dispatch={"interval_seconds": 1},
    )
    env = {"CSMON_SLACK__TOKEN": TOKEN, "CSMON_SLACK__BASE_URL": slack_api.base_url}
    a = Daemon(tmp_path, config, env, name="a")
    b: Daemon | None = None
    try:
        a.wait_log("csmon daemon started as leader")
        b = Daemon(tmp_path, config, env, name="b")
        b.wait_log("csmon daemon started as standby")
        # The leader imports, evaluates and delivers the first batch: one DM per CSM.
        a.wait_log("Dispatch: 2 sent")
        assert len(slack_api.posted) == 2

        a.kill()  # kill -9: no clean-up at all
        killed_at = datetime.now(UTC)
        drop_portfolio(drop, now, prefix="Second", first=10)
        b.wait_log("Became the leader")
        took_over = _log_time(b.log, "Became the leader")
        b.wait_log("Dispatch: 2 sent")
        wait_for("four Slack posts", lambda: len(slack_api.posted) >= 4)

        posts = [p["text"] for p in slack_api.posted]
        for prefix, numbers in (("First", range(4)), ("Second", range(10, 14))):
            for n in numbers:
                name = f"{prefix} {n}"
                assert sum(name in text for text in posts) == 1, (name, posts)
        with engine.connect() as conn:
            states = conn.execute(select(outbox.c.channel, outbox.c.state)).all()
        assert sorted(states) == [("slack", "sent")] * 4
        # Takeover is bounded by the standby's retry interval (0.5 s here) plus the time
        # for the kernel to close the dead leader's socket.
        assert (took_over - killed_at).total_seconds() < 5
        assert b.stop() == 0
        assert len(slack_api.posted) == 4  # and nothing more on the way out
    finally:
        a.kill()
        if b is not None:
            b.kill()


def _log_time(log: str, text: str) -> datetime:
    line = next(line for line in log.splitlines() if text in line)
    return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
