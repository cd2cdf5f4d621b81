"""Signal handling: the first SIGTERM/SIGINT asks for a clean stop, a second exits at
once, SIGHUP asks for a reload; the handler itself only sets flags."""

from __future__ import annotations

import signal

import pytest

from monitor.daemon import run


class Exited(Exception):
    pass


def test_first_signal_stops_cleanly_second_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_exit(status: int) -> None:
        raise Exited(status)

    monkeypatch.setattr(run.os, "_exit", fake_exit)
    signals = run.Signals()
    signals.handle(signal.SIGTERM, None)
    assert signals.stop == signal.SIGTERM and signals.wake.is_set()
    with pytest.raises(Exited) as exited:
        signals.handle(signal.SIGINT, None)
    assert exited.value.args == (128 + signal.SIGINT,)


def test_sighup_asks_for_a_reload_and_does_not_stop() -> None:
    signals = run.Signals()
    signals.handle(signal.SIGHUP, None)
    assert signals.reload and signals.stop is None and signals.wake.is_set()
