"""Configuration: ``config.toml`` overridden by ``CSMON_*`` environment variables.

Precedence, lowest to highest: built-in defaults < the TOML file < environment
variables (prefix ``CSMON_``, sections joined by ``__``, e.g. ``CSMON_INGEST__BATCH_SIZE``)
< options given on the command line. Unknown keys are errors: a typo must never be
silently ignored. Secrets are :class:`~pydantic.SecretStr` and print as ``**********``;
no error message shows them (:mod:`monitor.config.messages`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from monitor.config.base import Section
from monitor.config.messages import (
    ENV_PREFIX,
    describe_env_json_error,
    describe_errors,
    key_error,
    mask_url,
    source_of,
)
from monitor.config.routing import (
    RECEIVER_FORMS,
    Receiver,
    RouteMatch,
    RouteSettings,
    RoutingSettings,
    parse_receiver,
)
from monitor.config.sections import (
    DaemonSettings,
    DigestSettings,
    DispatchSettings,
    EvaluationSettings,
    HttpSettings,
    IngestSettings,
    NotifySettings,
    SyncSettings,
    check_timezone,
)
from monitor.errors import ConfigError
from monitor.notify.settings import EmailSettings, SlackSettings

__all__ = [
    "RECEIVER_FORMS",
    "SHIPPED",
    "DaemonSettings",
    "DigestSettings",
    "DispatchSettings",
    "EmailSettings",
    "EvaluationSettings",
    "HttpSettings",
    "IngestSettings",
    "NotifySettings",
    "Receiver",
    "RouteMatch",
    "RouteSettings",
    "RoutingSettings",
    "Section",
    "Settings",
    "SlackSettings",
    "SyncSettings",
    "describe_validation_error",
    "load_settings",
    "mask_url",
    "parse_receiver",
    "resolve_config_path",
    "usable_receivers",
]

DEFAULT_CONFIG = Path("config.toml")
SHIPPED = Path(__file__).resolve().parents[2]
"""The source tree's root: its ``rules/`` and ``alerts/`` are the shipped defaults."""


class Settings(BaseSettings):
    """All of csmon's settings. See ``config.toml`` for every key with its meaning."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )
    toml_path: ClassVar[Path | None] = None

    database_url: str = "sqlite:///csmon.db"
    timezone: str = "UTC"
    rules_dir: Path = Path("rules")
    alerts_dir: Path = Path("alerts")
    ingest: IngestSettings = IngestSettings()
    slack: SlackSettings = SlackSettings()
    email: EmailSettings = EmailSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    dispatch: DispatchSettings = DispatchSettings()
    sync: SyncSettings = SyncSettings()
    digest: DigestSettings = DigestSettings()
    daemon: DaemonSettings = DaemonSettings()
    http: HttpSettings = HttpSettings()
    notify: NotifySettings = NotifySettings()
    routing: RoutingSettings = RoutingSettings()
    routes: tuple[RouteSettings, ...] = ()

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("use a sqlite:/// or postgresql+psycopg:// URL")
        return url

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        return check_timezone(name)

    @field_validator("routing", "routes", "daemon")
    @classmethod
    def _channels_configured(
        cls,
        value: RoutingSettings | tuple[RouteSettings, ...] | DaemonSettings,
        info: ValidationInfo,
    ) -> RoutingSettings | tuple[RouteSettings, ...] | DaemonSettings:
        # Fields are validated in order: slack and email are known here (unless invalid).
        enabled = {
            name: section.enabled
            for name in ("slack", "email")
            if isinstance(section := info.data.get(name), SlackSettings | EmailSettings)
        }
        for key, receivers, owner_allowed in _receiver_lists(value):
            for text in receivers:
                channel = parse_receiver(text).channel
                if channel in enabled and not enabled[channel]:
                    how = "slack.token" if channel == "slack" else "email.smtp_host"
                    raise key_error(
                        key,
                        list(receivers),
                        f"receiver {text!r} needs {channel}, which is off (set {how}); "
                        f"use {usable_receivers(enabled, owner=owner_allowed)}",
                    )
        return value

    @property
    def notify_file_path(self) -> Path:
        """``notify.file_path``, relative to the config file's folder (else the working
        directory), like the rule folders."""
        path = self.notify.file_path
        if path.is_absolute():
            return path
        return (self.toml_path.parent if self.toml_path is not None else Path.cwd()) / path

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First source wins: command line > environment > TOML file.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_path))
        return tuple(sources)


def resolve_config_path(cli_path: Path | None) -> tuple[Path, bool]:
    """The config file to read and whether the user named it explicitly.

    ``--config`` wins, then ``CSMON_CONFIG``, then ``./config.toml``. A file the user
    named must exist; the implicit default may be absent (built-in defaults apply).
    """
    if cli_path is not None:
        return cli_path, True
    env_path = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if env_path:
        return Path(env_path), True
    return DEFAULT_CONFIG, False


def load_settings(cli_path: Path | None = None, **overrides: Any) -> Settings:
    """Read the configuration, or raise :class:`ConfigError` with one clear sentence.

    Relative ``rules_dir``/``alerts_dir`` and ``email.ca_file`` are taken relative to
    the config file's folder, so a deployment can be started from any working directory.
    The sentence never contains a secret (see :mod:`monitor.config.messages`).
    """
    path, explicit = resolve_config_path(cli_path)
    if explicit and not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    toml_path = path if path.is_file() else None

    class _FileSettings(Settings):
        pass

    _FileSettings.toml_path = toml_path
    # The ConfigError is raised outside the except blocks: pydantic's own error (which
    # shows the raw values, secrets included) must not even ride along as its context.
    problem: str | None = None
    try:
        settings: Settings = _FileSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problem = describe_validation_error(exc, toml_path)
    except SettingsError as exc:  # a CSMON_* list or table that is not JSON
        problem = describe_env_json_error(Settings, exc)
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        problem = f"Config file {path} cannot be read: {exc}."
    if problem is not None:
        raise ConfigError(problem)
    base = toml_path.parent if toml_path is not None else Path.cwd()
    return settings.model_copy(
        update={
            "rules_dir": _folder(base, settings.rules_dir, "rules"),
            "alerts_dir": _folder(base, settings.alerts_dir, "alerts"),
            "email": _email_paths(base, settings.email, toml_path),
        }
    )


def _folder(base: Path, path: Path, default: str) -> Path:
    """A configured folder, relative to ``base``. Left at its default name and absent
    there, the shipped defaults are used, so csmon works from any directory."""
    resolved = path if path.is_absolute() else base / path
    if path == Path(default) and not resolved.is_dir() and (SHIPPED / default).is_dir():
        return SHIPPED / default
    return resolved


def _email_paths(base: Path, email: EmailSettings, toml_path: Path | None) -> EmailSettings:
    """``email.ca_file`` relative to ``base``; it must exist, checked now rather than at
    the first TLS connection."""
    if email.ca_file is None:
        return email
    ca_file = email.ca_file if email.ca_file.is_absolute() else base / email.ca_file
    if not ca_file.is_file():
        where = source_of(("email", "ca_file"), toml_path)
        origin = "the config file's folder" if toml_path is not None else "the working directory"
        raise ConfigError(
            f"{where} = {str(email.ca_file)!r} is invalid: {ca_file} is not a file "
            f"(a relative path is taken from {origin})."
        )
    return email.model_copy(update={"ca_file": ca_file})


def describe_validation_error(exc: ValidationError, toml_path: Path | None) -> str:
    """Turn pydantic's report into one sentence per problem, naming key, value and rule;
    secrets are never shown (``**********``, URL passwords masked)."""
    return describe_errors(exc.errors(), toml_path, Settings)


def usable_receivers(enabled: dict[str, bool], *, owner: bool) -> str:
    """The receiver forms that work with the channels on, for error messages."""
    on = [name for name in ("slack", "email") if enabled.get(name, True)]
    forms = ["owner", *(f"owner:{name}" for name in on)] if owner else []
    if "slack" in on:
        forms += ["slack:#channel", "slack:C0123ABCD"]
    if "email" in on:
        forms.append("email:team@example.com")
    return ", ".join([*forms, "console"]) + " or file"


def _receiver_lists(
    value: RoutingSettings | tuple[RouteSettings, ...] | DaemonSettings,
) -> list[tuple[str, tuple[str, ...], bool]]:
    """Each receiver list in ``value``: (its key inside ``value``, the receivers,
    whether ``owner`` forms are allowed there)."""
    if isinstance(value, RoutingSettings):
        return [
            ("default_receivers", value.default_receivers, True),
            ("fallback", value.fallback, False),
        ]
    if isinstance(value, DaemonSettings):
        return [("ops_receivers", value.ops_receivers, False)]
    return [(f"{index}.receivers", route.receivers, True) for index, route in enumerate(value)]
