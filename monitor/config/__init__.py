"""Configuration: ``config.toml`` overridden by ``CSMON_*`` environment variables.

Precedence, lowest to highest: built-in defaults < the TOML file < environment
variables (prefix ``CSMON_``, sections joined by ``__``, e.g. ``CSMON_INGEST__BATCH_SIZE``)
< options given on the command line. Unknown keys are errors: a typo must never be
silently ignored. Secrets are :class:`~pydantic.SecretStr` and print as ``**********``.
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
    TomlConfigSettingsSource,
)

from monitor.config.base import Section
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
    "parse_receiver",
    "resolve_config_path",
]

ENV_PREFIX = "CSMON_"
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

    @field_validator("routing", "routes")
    @classmethod
    def _channels_configured(
        cls, value: RoutingSettings | tuple[RouteSettings, ...], info: ValidationInfo
    ) -> RoutingSettings | tuple[RouteSettings, ...]:
        # Fields are validated in order: slack and email are known here (unless invalid).
        enabled = {
            name: section.enabled
            for name in ("slack", "email")
            if isinstance(section := info.data.get(name), SlackSettings | EmailSettings)
        }
        if isinstance(value, RoutingSettings):
            texts = (*value.default_receivers, *value.fallback)
        else:
            texts = tuple(text for route in value for text in route.receivers)
        for text in texts:
            channel = parse_receiver(text).channel
            if channel in enabled and not enabled[channel]:
                how = "slack.token" if channel == "slack" else "email.smtp_host"
                raise ValueError(f"receiver {text!r} needs {channel}, which is off (set {how})")
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

    Relative ``rules_dir``/``alerts_dir`` are taken relative to the config file's folder,
    so a deployment can be started from any working directory.
    """
    path, explicit = resolve_config_path(cli_path)
    if explicit and not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    toml_path = path if path.is_file() else None

    class _FileSettings(Settings):
        pass

    _FileSettings.toml_path = toml_path
    try:
        settings: Settings = _FileSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, toml_path)) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError(f"Config file {path} cannot be read: {exc}.") from None
    base = toml_path.parent if toml_path is not None else Path.cwd()
    return settings.model_copy(
        update={
            "rules_dir": _folder(base, settings.rules_dir, "rules"),
            "alerts_dir": _folder(base, settings.alerts_dir, "alerts"),
        }
    )


def _folder(base: Path, path: Path, default: str) -> Path:
    """A configured folder, relative to ``base``. Left at its default name and absent
    there, the shipped defaults are used, so csmon works from any directory."""
    resolved = path if path.is_absolute() else base / path
    if path == Path(default) and not resolved.is_dir() and (SHIPPED / default).is_dir():
        return SHIPPED / default
    return resolved


def describe_validation_error(exc: ValidationError, toml_path: Path | None) -> str:
    """Turn pydantic's report into one sentence per problem, naming key, value and rule."""
    sentences = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        env_name = ENV_PREFIX + "__".join(str(part) for part in error["loc"]).upper()
        if env_name in os.environ:
            where = f"environment variable {env_name}"
        elif toml_path is not None:
            where = f"{toml_path}: {key}"
        else:
            where = key
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            sentences.append(f"{where} is not a known setting (check its spelling).")
        else:
            sentences.append(f"{where} = {error.get('input')!r} is invalid: {reason}.")
    return " ".join(sentences)
