"""The outbox: notifications committed to the database, then sent by a dispatcher.

The alerting cycle queues one row per (channel, target) in the same transaction as the
alert state change (:func:`enqueue`, or its own insert); :func:`dispatch_due` sends
what is due with retries and backoff and marks each row sent only once the server
accepted it. See ``docs/operations.md`` ("Delivery") for the operator's view.
"""

from monitor.outbox.backoff import DEFAULT_POLICY, RetryPolicy
from monitor.outbox.claim import ClaimedRow, claim_due
from monitor.outbox.dispatch import DEFAULT_LEASE, PAUSE_AFTER_FAILURES, dispatch_due
from monitor.outbox.queue import (
    FAILED,
    PENDING,
    SENT,
    OutboxEntry,
    OutboxMessage,
    StateFilter,
    count_by_state,
    enqueue,
    list_outbox,
    requeue_failed,
)
from monitor.outbox.report import ChannelStats, DispatchReport, FailedNotification

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_POLICY",
    "FAILED",
    "PAUSE_AFTER_FAILURES",
    "PENDING",
    "SENT",
    "ChannelStats",
    "ClaimedRow",
    "DispatchReport",
    "FailedNotification",
    "OutboxEntry",
    "OutboxMessage",
    "RetryPolicy",
    "StateFilter",
    "claim_due",
    "count_by_state",
    "dispatch_due",
    "enqueue",
    "list_outbox",
    "requeue_failed",
]
