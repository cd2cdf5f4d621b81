"""What a Slack Web API failure means for the outbox: retry later, or give up.

Pure classification of the exceptions ``slack_sdk.WebClient`` raises when it runs
WITHOUT retry handlers (the outbox owns retries and backoff, so a rate limit must reach
it with Slack's ``Retry-After`` instead of being slept away inside the client).
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError

from monitor.notify.errors import DeliveryFailure, PermanentFailure, TemporaryFailure

TEMPORARY_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)
"""Slack error codes (HTTP 200, ``ok: false``) worth retrying. Any other code is
permanent: Slack will answer the same request the same way."""

HINTS: Mapping[str, str] = {
    "invalid_auth": "the Slack token is invalid (check slack.token)",
    "not_authed": "no Slack token was sent (check slack.token)",
    "token_revoked": "the Slack token was revoked (check slack.token)",
    "token_expired": "the Slack token expired (check slack.token)",
    "account_inactive": "the Slack token belongs to a deactivated user or app",
    "missing_scope": "the Slack app lacks a permission scope this needs",
    "channel_not_found": "the Slack channel does not exist or the app cannot see it",
    "not_in_channel": "the Slack app is not a member of the channel (invite it)",
    "is_archived": "the Slack channel is archived",
    "users_not_found": "no Slack user has this email address",
}


def retry_after_seconds(headers: Mapping[str, object] | None) -> float | None:
    """Slack's ``Retry-After`` header in seconds, or None when absent or unreadable."""
    if not headers:
        return None
    for key, raw in headers.items():
        if key.lower() != "retry-after":
            continue
        value = raw[0] if isinstance(raw, list | tuple) and raw else raw
        try:
            seconds = float(str(value))
        except ValueError:
            return None
        return max(seconds, 0.0)
    return None


def classify_slack_error(exc: BaseException, method: str, timeout: float) -> DeliveryFailure:
    """Map an exception from a Web API call to a delivery failure.

    Raises ``exc`` again when it is not a delivery problem at all (a programming error
    must not be retried forever as if Slack were down).
    """
    if isinstance(exc, SlackApiError):
        return _from_api_error(exc, method)
    if isinstance(exc, TimeoutError) or (
        isinstance(exc, URLError) and isinstance(exc.reason, TimeoutError)
    ):
        return TemporaryFailure(f"Slack {method}: no answer within {timeout:g} s")
    if isinstance(exc, URLError):
        return TemporaryFailure(f"Slack {method}: cannot connect ({exc.reason})")
    if isinstance(exc, OSError | http.client.HTTPException):
        return TemporaryFailure(f"Slack {method}: connection failed ({type(exc).__name__})")
    if isinstance(exc, SlackClientError):
        return PermanentFailure(f"Slack {method}: client error ({type(exc).__name__})")
    raise exc


def _from_api_error(exc: SlackApiError, method: str) -> DeliveryFailure:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    error = str(data.get("error", "")) if isinstance(data, dict) else ""
    headers = getattr(response, "headers", None)
    if status == 429 or error in {"ratelimited", "rate_limited"}:
        wait = retry_after_seconds(headers if isinstance(headers, Mapping) else None)
        return TemporaryFailure(f"Slack {method}: rate limited", retry_after=wait)
    if status >= 500:
        return TemporaryFailure(f"Slack {method}: server error HTTP {status}")
    if error in TEMPORARY_ERRORS:
        return TemporaryFailure(f"Slack {method}: {error}")
    hint = HINTS.get(error)
    detail = f"{error}: {hint}" if hint else (error or f"HTTP {status}")
    return PermanentFailure(f"Slack {method}: {detail}")
