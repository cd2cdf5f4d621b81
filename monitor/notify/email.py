"""The email channel: one multipart/alternative (text + HTML) message per notification.

Plain :mod:`smtplib`, one connection per message: the outbox sends a handful of messages
per evaluation, and a fresh connection cannot inherit a half-broken session.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from monitor.clock import Clock, SystemClock
from monitor.notify.errors import DeliveryFailure, PermanentFailure, TemporaryFailure
from monitor.notify.formatting import one_line
from monitor.notify.message import Rendered
from monitor.notify.settings import EmailSettings

log = logging.getLogger(__name__)

USER_PREFIX = "user:"


class EmailChannel:
    """Sends rendered notifications through an SMTP relay."""

    name = "email"

    def __init__(self, settings: EmailSettings, *, clock: Clock | None = None) -> None:
        if not settings.enabled:
            raise ValueError("the email channel needs email.smtp_host")
        self._settings = settings
        self._clock = clock or SystemClock()

    def send(self, target: str, rendered: Rendered) -> None:
        """Mail ``rendered`` to ``target`` (an address, optionally written ``user:ADDRESS``).

        1. Check the address and build the message (pure, see :func:`build_message`).
        2. Connect (plain, STARTTLS or SSL), log in when credentials are set, send.
        3. Close the connection; a failure while closing after the server accepted
           the message is ignored, since retrying would mail it twice.
        """
        address = recipient_address(target)
        message = build_message(rendered, self._settings.sender, address, self._clock.now())
        try:
            smtp = self._connect()
        except Exception as exc:  # classified; unknown ones re-raised
            raise classify_smtp_error(exc, self._settings) from None
        try:
            self._login(smtp)
            smtp.send_message(message)
        except Exception as exc:  # classified; unknown ones re-raised
            raise classify_smtp_error(exc, self._settings) from None
        finally:
            _close_quietly(smtp)
        log.info("Email delivered to %s", address)

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        host = s.smtp_host or ""
        if s.ssl_mode == "ssl":
            return smtplib.SMTP_SSL(
                host, s.port, timeout=s.timeout_seconds, context=self._tls_context()
            )
        smtp = smtplib.SMTP(host, s.port, timeout=s.timeout_seconds)
        if s.ssl_mode == "starttls":
            try:
                smtp.starttls(context=self._tls_context())
            except BaseException:
                _close_quietly(smtp)
                raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        s = self._settings
        if s.username is not None and s.password is not None:
            smtp.login(s.username, s.password.get_secret_value())

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self._settings.ca_file is not None:
            context.load_verify_locations(cafile=str(self._settings.ca_file))
        return context


def recipient_address(target: str) -> str:
    """The bare address in ``target``, or :class:`PermanentFailure` if there is none."""
    raw = target.removeprefix(USER_PREFIX).strip()
    _, address = parseaddr(raw)
    if "@" not in address or any(c.isspace() for c in address) or address != raw:
        raise PermanentFailure(f"{target!r} is not an email address")
    return address


def build_message(rendered: Rendered, sender: str, to: str, now: datetime) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML preferred."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = one_line(rendered.subject, 250)
    message["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: out-of-office robots must not answer alerts.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def classify_smtp_error(exc: BaseException, settings: EmailSettings) -> DeliveryFailure:
    """Map an exception from :mod:`smtplib` / :mod:`ssl` / the socket to a failure.

    5xx answers are permanent, 4xx answers and network problems temporary. Raises
    ``exc`` again when it is not a delivery problem (a bug must not be retried).
    """
    server = f"SMTP server {settings.smtp_host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        text = "; ".join(f"{code} {_decode(msg)}" for code, msg in answers)
        if answers and all(code >= 500 for code, _ in answers):
            return PermanentFailure(f"{server} refused the recipient: {text}")
        return TemporaryFailure(f"{server} deferred the recipient: {text}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return PermanentFailure(
            f"{server} refused the login of {settings.username!r} "
            "(check email.username and email.password)"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentFailure(f"{server}: {exc} (check email.ssl_mode)")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"{server} answered {exc.smtp_code} {_decode(exc.smtp_error)}"
        if exc.smtp_code >= 500:
            return PermanentFailure(text)
        return TemporaryFailure(text)
    if isinstance(exc, smtplib.SMTPException):
        return TemporaryFailure(f"{server}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentFailure(
            f"{server}: certificate not trusted ({exc.verify_message}; see email.ca_file)"
        )
    if isinstance(exc, TimeoutError):
        return TemporaryFailure(f"{server}: no answer within {settings.timeout_seconds:g} s")
    if isinstance(exc, OSError):
        return TemporaryFailure(f"{server}: cannot connect ({exc.strerror or exc})")
    raise exc


def _decode(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return one_line(text, 300)


def _close_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
