"""pytest fixtures for the notification tests: a fake Slack Web API and SMTP servers.

Import them into a conftest (``from support.fixtures import slack_api, smtp_server,
smtp_tls_server  # noqa: F401``): ``tests/`` is on ``sys.path`` because pytest imports
``tests/conftest.py`` in its default "prepend" mode, so ``support`` is importable.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.slack_api import FakeSlackApi
from support.smtp import SmtpServer, running_smtp

HAVE_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None


@pytest.fixture
def slack_api() -> Iterator[FakeSlackApi]:
    fake = FakeSlackApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """STARTTLS required, then AUTH (``support.smtp.USERNAME`` / ``PASSWORD``)."""
    if not HAVE_CRYPTOGRAPHY:
        pytest.skip("TLS tests need the 'cryptography' package (self-signed certificate)")
    with running_smtp(tmp_path) as server:
        yield server


@pytest.fixture
def smtps_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """Implicit TLS (port 465 style), AUTH required."""
    if not HAVE_CRYPTOGRAPHY:
        pytest.skip("TLS tests need the 'cryptography' package (self-signed certificate)")
    with running_smtp(tmp_path, implicit_tls=True) as server:
        yield server
