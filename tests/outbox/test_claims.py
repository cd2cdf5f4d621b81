"""Claims and leases: two dispatchers never send one row, a dead one's rows are taken
over when its lease ends, and an interrupted run hands back what it did not try."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from outbox_testkit import Recorder, dispatch, queue, row, rows, slack
from sqlalchemy import Engine
from support.slack_api import FakeSlackApi

from monitor.clock import FixedClock
from monitor.notify import Rendered
from monitor.outbox import DEFAULT_LEASE, ClaimedRow, claim_due
from monitor.outbox.claim import mark_retry
from monitor.store import create_store_engine

RACE_ROWS = 60


def claim(engine: Engine, clock: FixedClock, worker: str) -> list[ClaimedRow]:
    return claim_due(
        engine,
        now=clock.now(),
        worker=worker,
        lease=DEFAULT_LEASE,
        limit=100,
        channels=["slack", "console"],
    )


def test_rows_of_a_dead_worker_are_sent_once_its_lease_ends(
    engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    (row_id,) = queue(engine, clock, ("slack", "#cs-alerts"))
    assert [r.notification_id for r in claim(engine, clock, "dead-worker")] == [row_id]
    channels = {"slack": slack(slack_api, clock)}

    clock.advance(DEFAULT_LEASE - timedelta(seconds=1))
    assert dispatch(engine, channels, clock).idle  # the lease still holds
    assert slack_api.posted == []

    clock.advance(timedelta(seconds=2))
    assert dispatch(engine, channels, clock).sent == 1
    assert len(slack_api.posted) == 1
    assert row(engine, row_id)["state"] == "sent"


def test_a_claimed_row_is_not_claimed_again(engine: Engine, clock: FixedClock) -> None:
    queue(engine, clock, ("console", "a"), ("console", "b"))

    assert len(claim(engine, clock, "first")) == 2
    assert claim(engine, clock, "second") == []


def test_two_racing_dispatchers_send_every_row_exactly_once(
    db_url: str, engine: Engine, clock: FixedClock, slack_api: FakeSlackApi
) -> None:
    targets = [f"#cs-{i}" for i in range(RACE_ROWS)]
    slack_api.channels.update(targets)
    queue(engine, clock, *(("slack", t) for t in targets))
    start = threading.Barrier(2)
    sent: Counter[str] = Counter()
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        own_engine = create_store_engine(db_url)  # its own pool and connections
        channels = {"slack": slack(slack_api, clock)}
        try:
            start.wait()
            while not (report := dispatch(own_engine, channels, clock, worker=name, limit=4)).idle:
                sent[name] += report.sent
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            own_engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    posts = Counter(p["channel"] for p in slack_api.posted)
    assert posts == Counter(targets)  # every row once, none twice
    assert sum(sent.values()) == RACE_ROWS
    assert {r["state"] for r in rows(engine).values()} == {"sent"}


class ClockPushingChannel(Recorder):
    """Each send takes 3 minutes (of the fixed clock); during the second one another
    worker tries to claim the rows."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        super().__init__()
        self.engine, self.clock = engine, clock
        self.stolen: list[ClaimedRow] = []

    def send(self, target: str, rendered: Rendered) -> None:
        self.clock.advance(timedelta(minutes=3))
        if len(self.sent) == 1:
            self.stolen = claim(self.engine, self.clock, "thief")
        super().send(target, rendered)


def test_a_long_run_renews_its_leases_so_no_one_takes_its_rows(
    engine: Engine, clock: FixedClock
) -> None:
    queue(engine, clock, ("console", "a"), ("console", "b"), ("console", "c"))
    channel = ClockPushingChannel(engine, clock)

    report = dispatch(engine, {"console": channel}, clock)

    assert report.sent == 3 and channel.targets == ["a", "b", "c"]
    assert channel.stolen == []


def test_an_outcome_never_overwrites_the_worker_that_took_over(
    engine: Engine, clock: FixedClock
) -> None:
    (row_id,) = queue(engine, clock, ("console", "ops"))
    claim(engine, clock, "slow")
    clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
    claim(engine, clock, "fast")

    assert not mark_retry(
        engine, row_id, worker="slow", next_attempt_at=clock.now(), error="too late"
    )
    stored = row(engine, row_id)
    assert stored["claimed_by"] == "fast" and stored["last_error"] is None


class Interrupting(Recorder):
    def send(self, target: str, rendered: Rendered) -> None:
        raise KeyboardInterrupt


def test_an_interrupted_run_hands_back_the_rows_it_did_not_try(
    engine: Engine, clock: FixedClock
) -> None:
    in_flight, *untried = queue(engine, clock, ("console", "a"), ("console", "b"), ("console", "c"))

    with pytest.raises(KeyboardInterrupt):
        dispatch(engine, {"console": Interrupting()}, clock)

    # The message in flight may have reached the server: it waits for its lease to end.
    assert row(engine, in_flight)["claimed_by"] == "test-worker"
    assert all(row(engine, i)["claimed_by"] is None for i in untried)
    assert [r.notification_id for r in claim(engine, clock, "next")] == untried


class StallingChannel(Recorder):
    """The first send stalls past the lease; meanwhile another worker claims the rows."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        super().__init__()
        self.engine, self.clock = engine, clock
        self.stolen: list[ClaimedRow] = []

    def send(self, target: str, rendered: Rendered) -> None:
        if not self.sent:
            self.clock.advance(DEFAULT_LEASE + timedelta(minutes=1))
            self.stolen = claim(self.engine, self.clock, "thief")
        super().send(target, rendered)


def test_a_run_stalled_past_its_lease_leaves_taken_rows_to_their_new_worker(
    engine: Engine, clock: FixedClock
) -> None:
    ids = queue(engine, clock, ("console", "a"), ("console", "b"), ("console", "c"))
    channel = StallingChannel(engine, clock)

    report = dispatch(engine, {"console": channel}, clock)

    assert channel.targets == ["a"] and report.sent == 1
    assert [r.notification_id for r in channel.stolen] == ids
    assert row(engine, ids[0])["state"] == "sent"  # accepted is recorded all the same
    assert [row(engine, i)["claimed_by"] for i in ids[1:]] == ["thief", "thief"]
