"""A dispatcher to be killed: run as a subprocess by test_crash.py.

``python crash_worker.py DB_URL INSTANT MODE SLACK_BASE_URL`` (token in
``CRASH_SLACK_TOKEN``) dispatches with a Slack channel that, for its first message,
prints ``in-flight`` and then blocks on stdin until the parent kills the process.
MODE ``before-send`` stalls before the message reaches Slack (the claim is committed,
nothing sent); ``after-send`` stalls after Slack accepted it, before the row is marked.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

from monitor.clock import FixedClock
from monitor.notify import Rendered, SlackChannel, SlackSettings
from monitor.outbox import dispatch_due
from monitor.store import create_store_engine

ALERTS_DIR = Path(__file__).resolve().parents[2] / "alerts"


class StallingSlack:
    name = "slack"

    def __init__(self, real: SlackChannel, mode: str) -> None:
        self.real, self.mode = real, mode

    def send(self, target: str, rendered: Rendered) -> None:
        if self.mode == "after-send":
            self.real.send(target, rendered)
        print("in-flight", flush=True)
        sys.stdin.readline()  # wait here until SIGKILL
        raise SystemExit("the parent should have killed this process")


def main() -> None:
    db_url, instant, mode, base_url = sys.argv[1:5]
    clock = FixedClock(datetime.fromisoformat(instant))
    settings = SlackSettings.model_validate(
        {"token": os.environ["CRASH_SLACK_TOKEN"], "base_url": base_url}
    )
    channel = StallingSlack(SlackChannel(settings, clock=clock), mode)
    engine = create_store_engine(db_url)
    dispatch_due(engine, {"slack": channel}, ALERTS_DIR, clock=clock, worker="doomed")


if __name__ == "__main__":
    main()
