"""SIGKILL in the middle of a dispatch: the claimed message is delivered after restart,
and a message the server had already accepted is sent at most twice (SPEC §5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from outbox_testkit import dispatch, queue, row, slack
from sqlalchemy import Engine
from support.slack_api import TOKEN, FakeSlackApi

from monitor.clock import FixedClock
from monitor.outbox import DEFAULT_LEASE

WORKER = Path(__file__).with_name("crash_worker.py")


def kill_mid_send(db_url: str, clock: FixedClock, slack_api: FakeSlackApi, mode: str) -> None:
    """Run a dispatcher in a child process and SIGKILL it while its message is in flight."""
    child = subprocess.Popen(
        [sys.executable, str(WORKER), db_url, clock.now().isoformat(), mode, slack_api.base_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CRASH_SLACK_TOKEN": TOKEN},
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        line = child.stdout.readline()  # blocks until the claim is committed and the send began
        assert line == b"in-flight\n", child.stderr.read().decode()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
        child.stderr.close()
        if child.stdin is not None:
            child.stdin.close()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "posts"),
    [("before-send", 1), ("after-send", 2)],
    ids=["killed-before-the-server-accepted", "killed-before-marking-sent"],
)
def test_a_killed_dispatcher_delivers_after_restart(
    db_url: str,
    engine: Engine,
    clock: FixedClock,
    slack_api: FakeSlackApi,
    mode: str,
    posts: int,
) -> None:
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))

    kill_mid_send(db_url, clock, slack_api, mode)

    stored = row(engine, row_id)
    assert stored["state"] == "pending" and stored["claimed_by"] == "doomed"
    channels = {"slack": slack(slack_api, clock)}
    clock.advance(timedelta(minutes=1))
    assert dispatch(engine, channels, clock).idle  # the dead worker's lease still holds

    clock.advance(DEFAULT_LEASE)
    assert dispatch(engine, channels, clock).sent == 1
    assert row(engine, row_id)["state"] == "sent"
    assert len(slack_api.posted) == posts  # at most the message in flight twice
    clock.advance(timedelta(hours=1))
    assert dispatch(engine, channels, clock).idle
    assert len(slack_api.posted) == posts
