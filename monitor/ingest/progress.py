"""Progress reporting for long imports, decoupled from any terminal library."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int], None]
"""Called with the number of input bytes consumed since the previous call."""


def no_progress(_advance: int) -> None:
    """The default: report nothing (tests, the daemon, piped output)."""
