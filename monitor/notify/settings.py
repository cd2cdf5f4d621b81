"""Configuration sections for the notification channels.

The lead wires them into :class:`monitor.config.Settings` as ``slack`` and ``email``
(env ``CSMON_SLACK__TOKEN``, ``CSMON_SLACK__BASE_URL``, ``CSMON_EMAIL__SMTP_HOST``,
``CSMON_EMAIL__SMTP_PORT`` …). They live here, not in ``monitor/config.py``, so this
package does not import the config module (which imports this one). Secrets are
:class:`~pydantic.SecretStr`: they print as ``**********`` and are only unwrapped at
the moment they are handed to the client library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

SslMode = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSettings(_Section):
    token: SecretStr | None = None
    """Bot token (``xoxb-…``) with chat:write, im:write, users:read, users:read.email.
    Without it, Slack is off."""
    base_url: str = "https://slack.com/api/"
    """The Web API's address; tests point it at a local fake."""
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    user_cache_seconds: float = Field(3600.0, ge=0)
    """How long an email → DM channel lookup is reused (0: look up every time)."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("use an http(s):// URL such as https://slack.com/api/")
        return url if url.endswith("/") else url + "/"

    @property
    def enabled(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value().strip())


class EmailSettings(_Section):
    smtp_host: str | None = None
    """The SMTP relay. Without it, email is off."""
    smtp_port: int | None = Field(None, ge=1, le=65535)
    """Default: 25 (ssl_mode none), 587 (starttls), 465 (ssl)."""
    ssl_mode: SslMode = "starttls"
    username: str | None = None
    password: SecretStr | None = Field(None, validate_default=True)
    sender: str = "csmon@localhost"
    """The From address, e.g. ``csmon <csmon@example.com>``."""
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    ca_file: Path | None = None
    """Extra CA certificate(s) to trust, for a relay with a private CA."""

    @field_validator("sender")
    @classmethod
    def _has_address(cls, sender: str) -> str:
        if "@" not in sender or "\n" in sender or "\r" in sender:
            raise ValueError("use an email address such as csmon@example.com")
        return sender

    @field_validator("password")
    @classmethod
    def _credentials_in_pairs(
        cls, password: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        # Judged on the password (validated after the username) so the error names
        # the key to fix rather than the whole section.
        if "username" not in info.data:
            return password  # the username itself is invalid: that error is enough
        if password is None and info.data["username"] is not None:
            raise ValueError("set it too when email.username is set (or remove both)")
        if password is not None and info.data["username"] is None:
            raise ValueError("set email.username too, or remove the password")
        return password

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.ssl_mode]
