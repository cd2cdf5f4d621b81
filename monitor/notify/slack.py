"""The Slack channel: a post to a channel, or a direct message found by email.

Targets:

* ``#channel-name`` or a channel id (``C0123…``): posted as is;
* ``user:jane@example.com``: ``users.lookupByEmail`` → ``conversations.open`` → the DM
  channel, cached per process for ``slack.user_cache_seconds``.

The client runs without slack-sdk's retry handlers: the outbox retries with backoff, and
a rate limit reaches it as :class:`TemporaryFailure` with Slack's ``Retry-After``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.clock import Clock, SystemClock
from monitor.notify.errors import DeliveryFailure, PermanentFailure
from monitor.notify.formatting import truncate
from monitor.notify.message import Rendered
from monitor.notify.settings import SlackSettings
from monitor.notify.slack_errors import classify_slack_error

log = logging.getLogger(__name__)

USER_PREFIX = "user:"
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
TEXT_LIMIT = 39_000  # Slack truncates message text beyond 40,000 characters

T = TypeVar("T")


class DirectMessageCache:
    """Email → DM channel id, each entry kept for ``ttl`` (thread-safe)."""

    def __init__(self, ttl: timedelta, clock: Clock) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, email: str) -> str | None:
        with self._lock:
            entry = self._entries.get(email)
            if entry is None or entry[1] <= self._clock.now():
                self._entries.pop(email, None)
                return None
            return entry[0]

    def put(self, email: str, channel_id: str) -> None:
        if self._ttl <= timedelta(0):
            return
        with self._lock:
            self._entries[email] = (channel_id, self._clock.now() + self._ttl)

    def forget(self, email: str) -> None:
        with self._lock:
            self._entries.pop(email, None)


class SlackChannel:
    """Sends rendered notifications with the Slack Web API (``chat.postMessage``)."""

    name = "slack"

    def __init__(self, settings: SlackSettings, *, clock: Clock | None = None) -> None:
        if settings.token is None or not settings.enabled:
            raise ValueError("the Slack channel needs slack.token")
        self._timeout = settings.timeout_seconds
        self._client = WebClient(
            token=settings.token.get_secret_value(),
            base_url=settings.base_url,
            # urllib takes float seconds; slack-sdk merely annotates the value as int.
            timeout=settings.timeout_seconds,  # type: ignore[arg-type]
            retry_handlers=[],  # retries belong to the outbox (Retry-After, backoff)
        )
        self._dms = DirectMessageCache(
            timedelta(seconds=settings.user_cache_seconds), clock or SystemClock()
        )

    def send(self, target: str, rendered: Rendered) -> None:
        """Post ``rendered`` to ``target``.

        1. Resolve the target to a channel id (a DM for ``user:EMAIL``, cached).
        2. ``chat.postMessage`` with the blocks and the escaped fallback text.
        3. If Slack rejects the blocks, post the same content as text only: a layout
           problem must not lose the alert.
        A permanent failure on a cached DM drops the cache entry, so a deactivated or
        re-created user is looked up afresh next time.
        """
        email = _user_email(target)
        channel = self._direct_message(email) if email else target.strip()
        if not channel:
            raise PermanentFailure("Slack target is empty")
        try:
            self._post(channel, rendered)
        except PermanentFailure:
            if email:
                self._dms.forget(email)
            raise
        log.info("Slack message delivered to %s", target)

    def _post(self, channel: str, rendered: Rendered) -> None:
        text = rendered.slack_text or rendered.subject
        try:
            self._client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=rendered.slack_blocks or None,
                unfurl_links=False,
                unfurl_media=False,
            )
            return
        except Exception as exc:  # classified below, unknown ones re-raised
            if not (_slack_error_code(exc) in BLOCK_ERRORS and rendered.slack_blocks):
                raise self._failure(exc, "chat.postMessage") from None
            log.warning("Slack rejected the message layout; sending it as text instead")
        full_text = truncate("\n\n".join([text, *_block_texts(rendered.slack_blocks)]), TEXT_LIMIT)
        self._call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel, text=full_text, unfurl_links=False, unfurl_media=False
            ),
        )

    def _direct_message(self, email: str) -> str:
        cached = self._dms.get(email)
        if cached is not None:
            return cached
        user = self._call(
            "users.lookupByEmail", lambda: self._client.users_lookupByEmail(email=email)
        )
        user_id = str(user["user"]["id"])
        opened = self._call(
            "conversations.open", lambda: self._client.conversations_open(users=user_id)
        )
        channel_id = str(opened["channel"]["id"])
        self._dms.put(email, channel_id)
        return channel_id

    def _call(self, method: str, request: Callable[[], T]) -> T:
        try:
            return request()
        except Exception as exc:  # classified below, unknown ones re-raised
            raise self._failure(exc, method) from None

    def _failure(self, exc: Exception, method: str) -> DeliveryFailure:
        return classify_slack_error(exc, method, self._timeout)


def _user_email(target: str) -> str | None:
    if not target.startswith(USER_PREFIX):
        return None
    email = target.removeprefix(USER_PREFIX).strip().lower()
    if "@" not in email:
        raise PermanentFailure(f"Slack target {target!r} is not user:EMAIL")
    return email


def _slack_error_code(exc: Exception) -> str | None:
    if not isinstance(exc, SlackApiError):
        return None
    data = getattr(exc.response, "data", None)
    return str(data.get("error")) if isinstance(data, dict) else None


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The mrkdwn of section and context blocks, for a text-only resend."""
    texts: list[str] = []
    for block in blocks:
        if block.get("type") == "section":
            texts.append(str(block.get("text", {}).get("text", "")))
        elif block.get("type") == "context":
            texts.extend(str(e.get("text", "")) for e in block.get("elements", []))
    return [t for t in texts if t]
