"""How a channel says a send did not happen, so the outbox knows what to do next.

* :class:`TemporaryFailure`: try again later (server down, timeout, rate limit). When the
  server said how long to wait (Slack's ``Retry-After``), ``retry_after`` carries it in
  seconds and the outbox must not retry sooner.
* :class:`PermanentFailure`: retrying the same message to the same target cannot succeed
  (unknown user, archived channel, revoked token, recipient refused).

Reasons are one sentence for the operator. They never contain credentials.
"""

from __future__ import annotations


class DeliveryFailure(Exception):
    """Base class: the message was not accepted by the server."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailure):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"TemporaryFailure({self.reason!r}, retry_after={self.retry_after!r})"


class PermanentFailure(DeliveryFailure):
    def __repr__(self) -> str:
        return f"PermanentFailure({self.reason!r})"
