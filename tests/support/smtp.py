"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

``port=0`` does not work with aiosmtpd's Controller (its start-up self-check connects to
the configured port), so a free port is picked first. Variants: plain, STARTTLS with
AUTH (credentials :data:`USERNAME` / :data:`PASSWORD`) and implicit TLS, both with a
self-signed certificate made by :func:`make_certificate` (needs ``cryptography``).
Recipients listed in :attr:`Collector.refuse` are answered with the given SMTP reply.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USERNAME = "csmon"
PASSWORD = "smtp-pa55word-do-not-log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    """The aiosmtpd handler: accepts mail, keeps the envelopes."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[str] = []
        """User names that logged in successfully."""
        self.refuse: dict[str, str] = {}
        """Recipient address → SMTP reply, e.g. ``"550 5.1.1 No such user"``."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        expected = (USERNAME.encode(), PASSWORD.encode())
        ok = isinstance(auth_data, LoginPassword) and tuple(auth_data) == expected
        if ok:
            self.logins.append(USERNAME)
        # handled=False makes aiosmtpd answer 535; with the default the client would hang.
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: Collector
    cert_file: Path | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.collector.envelopes:
            content = envelope.content
            raw = content if isinstance(content, bytes) else str(content).encode()
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextmanager
def running_smtp(
    cert_dir: Path | None = None, *, implicit_tls: bool = False
) -> Iterator[SmtpServer]:
    """Run a server; with ``cert_dir``: STARTTLS required, AUTH required, or implicit TLS."""
    collector = Collector()
    kwargs: dict[str, Any] = {}
    cert_file = None
    if cert_dir is not None:
        cert_file, key_file = make_certificate(cert_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        if implicit_tls:
            # aiosmtpd does not count implicit TLS as TLS for auth_require_tls, so AUTH
            # is offered but not enforced here (the client logs in all the same).
            kwargs.update(ssl_context=context, auth_require_tls=False, auth_required=False)
        else:
            kwargs.update(tls_context=context, require_starttls=True, auth_required=True)
        kwargs.update(authenticator=collector.authenticate)
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, collector, cert_file)
    finally:
        controller.stop()
