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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

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
    password: SecretStr | None = None
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

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> EmailSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("set both username and password, or neither")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.ssl_mode]
