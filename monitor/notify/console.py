"""Channels that need no server: the console and a JSON-lines file.

They make the embedded set-up work end to end without Slack or SMTP: alerts show up
in the daemon's output and in a file that scripts (and tests) can read.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from monitor.clock import Clock, SystemClock
from monitor.notify.errors import TemporaryFailure
from monitor.notify.formatting import strip_control
from monitor.notify.message import Rendered


class ConsoleChannel:
    """Prints the plain-text message, framed, to a stream (stdout by default)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, target: str, rendered: Rendered) -> None:
        # Control characters from data (an account named "\x1b[2J") must not drive
        # the operator's terminal.
        text = strip_control(
            f"──── csmon → {target}: {rendered.subject}\n{rendered.text.rstrip()}\n"
        )
        stream = self._stream or sys.stdout
        with self._lock:
            try:
                stream.write(text + "\n")
                stream.flush()
            except OSError as exc:
                raise TemporaryFailure(f"console output failed ({exc.strerror})") from None


class FileChannel:
    """Appends one JSON object per message to a file (``sent_at``, ``target``, ...).

    Each line is written with a single ``write`` on a file opened for appending, so
    concurrent writers never interleave within a line.
    """

    name = "file"

    def __init__(self, path: Path, *, clock: Clock | None = None) -> None:
        self.path = path
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()

    def send(self, target: str, rendered: Rendered) -> None:
        record = {
            "sent_at": self._clock.now().isoformat(),
            "target": target,
            "subject": rendered.subject,
            "text": rendered.text,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError as exc:
                raise TemporaryFailure(
                    f"cannot append to {self.path} ({exc.strerror or exc})"
                ) from None
