"""The one method every channel has, so the outbox can treat them alike."""

from __future__ import annotations

from typing import Protocol

from monitor.notify.message import Rendered


class Channel(Protocol):
    @property
    def name(self) -> str:
        """The channel's name in routes and in the outbox: ``slack``, ``email``, ..."""
        ...

    def send(self, target: str, rendered: Rendered) -> None:
        """Deliver ``rendered`` to ``target``; return only once the server accepted it.

        Raises :class:`~monitor.notify.errors.TemporaryFailure` (retry later, no sooner
        than ``retry_after`` seconds when given) or
        :class:`~monitor.notify.errors.PermanentFailure` (retrying cannot help).
        """
        ...
