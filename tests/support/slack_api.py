"""A local HTTP server speaking the parts of the Slack Web API that csmon uses.

Point ``slack_sdk.WebClient(base_url=fake.base_url)`` at it. It answers like Slack:
``auth.test``, ``users.lookupByEmail``, ``conversations.open`` and ``chat.postMessage``
(all as POST, as the SDK sends them), checks the bearer token, records every request,
and can be scripted to answer the next calls of a method with a rate limit, a server
error, a Slack error code or no answer at all (for client timeouts).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "xoxb-test-0000-secret-token"
HANG_LIMIT_SECONDS = 10.0


@dataclass(frozen=True)
class Reply:
    """A scripted answer. ``hang``: send nothing until the test ends (client timeout)."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False

    @staticmethod
    def error(code: str) -> Reply:
        return Reply(body={"ok": False, "error": code})

    @staticmethod
    def rate_limited(retry_after: int) -> Reply:
        return Reply(
            status=429,
            body={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class Request:
    method: str
    """The API method, e.g. ``chat.postMessage``."""
    headers: dict[str, str]
    params: dict[str, Any]
    """Form fields or the JSON body."""


class FakeSlackApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.users: dict[str, str] = {"jane@example.com": "U0JANE", "max@example.com": "U0MAX"}
        self.channels: set[str] = {"#cs-alerts", "C0CSALERTS"}
        self.requests: list[Request] = []
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def start(self) -> FakeSlackApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, method: str, *replies: Reply) -> None:
        """Answer the next calls of ``method`` with ``replies``, in order."""
        with self._lock:
            self._scripts[method].extend(replies)

    def calls(self, method: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method]

    @property
    def posted(self) -> list[dict[str, Any]]:
        """The parameters of every ``chat.postMessage`` call (accepted or not)."""
        return [r.params for r in self.calls("chat.postMessage")]

    # -- called by the request handler -------------------------------------------------

    def answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._scripts[request.method]
            if scripted:
                return scripted.popleft()
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply.error("invalid_auth")
        return self._default(request.method, request.params)

    def wait_for_release(self) -> None:
        self._release.wait(HANG_LIMIT_SECONDS)

    def _default(self, method: str, params: dict[str, Any]) -> Reply:
        if method == "auth.test":
            return Reply(body={"ok": True, "user_id": "U0BOT", "team": "csmon-test"})
        if method == "users.lookupByEmail":
            user_id = self.users.get(str(params.get("email", "")).lower())
            if user_id is None:
                return Reply.error("users_not_found")
            return Reply(body={"ok": True, "user": {"id": user_id, "name": user_id.lower()}})
        if method == "conversations.open":
            channel = "D" + str(params.get("users", "")).removeprefix("U")
            with self._lock:
                self.channels.add(channel)
            return Reply(body={"ok": True, "channel": {"id": channel}})
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            if channel not in self.channels:
                return Reply.error("channel_not_found")
            return Reply(body={"ok": True, "channel": channel, "ts": "1700000000.000100"})
        return Reply(status=404, body={"ok": False, "error": "unknown_method"})


def _handler_for(fake: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                params: dict[str, Any] = json.loads(raw or "{}")
            else:
                params = dict(parse_qsl(raw))
            headers = {k.lower(): v for k, v in self.headers.items()}
            method = self.path.removeprefix("/api/").split("?")[0]
            reply = fake.answer(Request(method, headers, params))
            if reply.hang:
                fake.wait_for_release()
                return
            body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body or {})
            content_type = "application/json" if not isinstance(reply.body, str) else "text/html"
            payload = body.encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the per-request stderr lines."""

    return Handler
