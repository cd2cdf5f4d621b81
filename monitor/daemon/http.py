"""The daemon's HTTP listener: ``/healthz`` and ``/metrics`` (later also the Segment
ingest API and Slack interactivity, on this same app).

A Starlette app served by uvicorn in a thread of its own; the socket is bound before
the thread starts, so a port already in use is a clear error at start, and port 0
(tests) gives a free port that :attr:`HttpServer.port` reports.

``/healthz`` answers 200 when the replica is healthy and 503 otherwise, with JSON
saying why: the scheduler runs, the database answers, and (on the leader) the last
evaluation is not older than twice the evaluation interval. A standby is healthy
without evaluating: it is ready to take over.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.errors import CsmonError

log = logging.getLogger(__name__)

STALE_FACTOR = 2
"""The leader is unhealthy when its last evaluation is older than this many intervals."""
_START_TIMEOUT = 10.0


@dataclass(frozen=True)
class HealthFacts:
    now: datetime
    scheduler_running: bool
    is_leader: bool
    database_error: str | None
    """None when the database answered."""
    evaluation_interval: timedelta
    last_evaluation_at: datetime | None
    leader_since: datetime | None
    rules_fingerprint: str


class HealthSource(Protocol):
    def health_facts(self) -> HealthFacts: ...


def health_report(facts: HealthFacts) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of ``/healthz`` (pure, for tests)."""
    problems: list[str] = []
    if not facts.scheduler_running:
        problems.append("the scheduler is not running")
    if facts.database_error is not None:
        problems.append(f"the database is unreachable: {facts.database_error}")
    evaluation: dict[str, Any] = {"interval_seconds": facts.evaluation_interval.total_seconds()}
    if facts.last_evaluation_at is not None:
        evaluation["last_at"] = facts.last_evaluation_at.isoformat()
        evaluation["age_seconds"] = round((facts.now - facts.last_evaluation_at).total_seconds(), 3)
    if facts.is_leader:
        # Before the first evaluation, count from the moment this replica took over.
        since = facts.last_evaluation_at or facts.leader_since or facts.now
        if facts.now - since > STALE_FACTOR * facts.evaluation_interval:
            problems.append(
                f"the last evaluation is older than {STALE_FACTOR} evaluation intervals"
            )
    body: dict[str, Any] = {
        "status": "ok" if not problems else "unhealthy",
        "role": "leader" if facts.is_leader else "standby",
        "scheduler": "running" if facts.scheduler_running else "stopped",
        "database": "reachable" if facts.database_error is None else "unreachable",
        "evaluation": evaluation,
        "rules_fingerprint": facts.rules_fingerprint[:12],
        "problems": problems,
    }
    return (200 if not problems else 503), body


def build_app(
    health: HealthSource, registry: CollectorRegistry, extra_routes: list[BaseRoute] | None = None
) -> Starlette:
    """The ASGI app. Later issues pass their routes (ingest, Slack) as ``extra_routes``."""

    async def healthz(_request: Request) -> Response:
        # The facts include a database round trip: keep it off the event loop.
        status, body = health_report(await run_in_threadpool(health.health_facts))
        return JSONResponse(body, status_code=status)

    async def metrics(_request: Request) -> Response:
        payload = await run_in_threadpool(generate_latest, registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes)


class HttpServer:
    """uvicorn serving ``app`` on a thread, on a socket bound at construction."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self._socket = _bind(host, port)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="csmon-http"
        )

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def host(self) -> str:
        return str(self._socket.getsockname()[0])

    def start(self) -> HttpServer:
        """Start serving; returns once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)  # uvicorn offers no start event; this runs once, at start
        if not self._server.started:
            raise CsmonError(f"The HTTP listener on {self.host}:{self.port} did not start.")
        log.info("HTTP listener on http://%s:%d (/healthz, /metrics)", self.host, self.port)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CsmonError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); set [http] port to a free "
            "port, or leave it unset to run without HTTP."
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
