"""One-sentence config error messages that never contain a secret.

pydantic reports a failing value as the validator's *input*: for a check that spans a
section (``[email]``'s username/password pair) that is the whole section, password
included, and a ``database_url`` carries its password inside the URL. Every value
shown here is therefore redacted first: fields typed :class:`~pydantic.SecretStr`
(found by walking the settings model, so a new secret is covered without a list to
keep up to date) print as ``**********`` or not at all, and URL passwords are masked.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic_core import ErrorDetails, PydanticCustomError

ENV_PREFIX = "CSMON_"
MASK = "**********"
KEY_ERROR = "config_key"
"""The type of :func:`key_error`'s errors."""

SecretPaths = frozenset[tuple[str, ...]]

# scheme://user:PASSWORD@host… (greedy: a password with "@" in it is masked whole);
# and a libpq-style ?password=… query parameter.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<secret>\S*)@")
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&\s]+)", re.IGNORECASE)
_MIN_SCRUB = 4
"""Shorter secrets are not searched for in the finished message (they would mangle it);
they are still never shown as a value."""


def key_error(key: str, value: object, message: str) -> PydanticCustomError:
    """An error about ``key`` inside the field being validated (``routing`` →
    ``routing.fallback``, ``routes`` → ``routes.0.receivers``), so the message names
    that key and its value rather than the whole section."""
    return PydanticCustomError(
        KEY_ERROR, "{message}", {"key": key, "value": value, "message": message}
    )


@cache
def secret_paths(model: type[BaseModel]) -> SecretPaths:
    """The keys (lower-case, list indices left out) of every field holding a secret."""
    found: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        if _mentions_secret(field.annotation):
            found.add((name.lower(),))
        for sub in _models_in(field.annotation):
            found |= {(name.lower(), *path) for path in secret_paths(sub)}
    return frozenset(found)


def mask_url(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ``**********``."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + "@", text)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK, text)


def describe_errors(
    errors: Iterable[ErrorDetails], toml_path: Path | None, model: type[BaseModel]
) -> str:
    """One sentence per problem, naming where it came from, the key, the (redacted)
    value and the rule."""
    secrets = secret_paths(model)
    seen: set[str] = _secret_env_values(model)
    sentences = []
    for error in errors:
        loc: tuple[str | int, ...] = tuple(error["loc"])
        value: object = error.get("input")
        reason = str(error["msg"]).removeprefix("Value error, ")
        context = error.get("ctx") or {}
        if error["type"] == KEY_ERROR:
            loc += _key_parts(str(context["key"]))
            value = context["value"]
            reason = str(context["message"])
        where = source_of(loc, toml_path)
        path = _path(loc)
        if error["type"] == "extra_forbidden":
            sentences.append(f"{where} is not a known setting (check its spelling).")
        elif _is_secret(path, secrets) or (isinstance(value, str) and _encloses(path, secrets)):
            _collect(value, seen)
            sentences.append(f"{where} is invalid (value hidden: secret): {reason}.")
        else:
            shown = redact(value, path, secrets, seen)
            sentences.append(f"{where} = {shown!r} is invalid: {reason}.")
    return scrub(" ".join(sentences), seen)


def describe_env_json_error(model: type[BaseModel], exc: Exception) -> str:
    """Which ``CSMON_*`` variable holds the malformed JSON that made the environment
    source fail, and what its key takes."""
    for name, value in sorted(os.environ.items()):
        path = _env_path(name)
        if path is None or not value:
            continue
        expected = _json_kind(model, path)
        if expected is None:
            continue
        try:
            json.loads(value)
        except ValueError as error:
            key = ".".join(path)
            # Malformed JSON cannot be redacted key by key: not shown if it may hold a secret.
            hidden = _encloses(path, secret_paths(model))
            shown = "" if hidden else f" = {mask_url(value)!r}"
            sentence = (
                f"environment variable {name}{shown} is invalid: {key} takes {expected} ({error})."
            )
            return scrub(sentence, _secret_env_values(model))
    detail = f"{exc} ({exc.__cause__})" if exc.__cause__ is not None else str(exc)
    return scrub(
        f"The CSMON_* environment variables cannot be read: {detail}; "
        "list and table values must be JSON.",
        _secret_env_values(model),
    )


def redact(value: object, path: tuple[str, ...], secrets: SecretPaths, seen: set[str]) -> object:
    """``value`` with every secret in it (by key, by type, or a URL's password) masked;
    the secrets found are added to ``seen``."""
    if isinstance(value, SecretStr):
        _collect(value, seen)
        return MASK
    if _is_secret(path, secrets):
        _collect(value, seen)
        return MASK
    if isinstance(value, Mapping):
        return {k: redact(v, (*path, str(k).lower()), secrets, seen) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v, path, secrets, seen) for v in value)
    if isinstance(value, str):
        for pattern in (_URL_PASSWORD, _QUERY_PASSWORD):
            seen.update(m["secret"] for m in pattern.finditer(value))
        return mask_url(value)
    return value


def scrub(message: str, secrets: Iterable[str]) -> str:
    """The last line of defence: any secret still in ``message`` is masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SCRUB:
            message = message.replace(secret, MASK)
    return message


def _collect(value: object, seen: set[str]) -> None:
    if isinstance(value, SecretStr):
        seen.add(value.get_secret_value())
    elif isinstance(value, str):
        seen.add(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, seen)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, seen)


def _secret_env_values(model: type[BaseModel]) -> set[str]:
    """The values of the secret settings given by environment (and their list items)."""
    secrets = secret_paths(model)
    seen: set[str] = set()
    for name, value in os.environ.items():
        path = _env_path(name)
        if path is None or not value or not _is_secret(path, secrets):
            continue
        seen.add(value)
        with contextlib.suppress(ValueError):  # a JSON list of write keys: each one too
            _collect(json.loads(value), seen)
    return seen


def source_of(loc: Sequence[str | int], toml_path: Path | None) -> str:
    """Where the value at ``loc`` came from: its environment variable (or the variable
    of an enclosing list or table), else the config file and key."""
    key = ".".join(str(part) for part in loc)
    names = {name.upper(): name for name in os.environ}
    for length in range(len(loc), 0, -1):
        name = names.get(ENV_PREFIX + "__".join(str(part) for part in loc[:length]).upper())
        if name is not None:
            return f"environment variable {name}" + ("" if length == len(loc) else f" ({key})")
    return f"{toml_path}: {key}" if toml_path is not None else key


def _key_parts(key: str) -> tuple[str | int, ...]:
    return tuple(int(part) if part.isdigit() else part for part in key.split("."))


def _path(loc: Sequence[str | int]) -> tuple[str, ...]:
    return tuple(part.lower() for part in loc if isinstance(part, str))


def _is_secret(path: tuple[str, ...], secrets: SecretPaths) -> bool:
    return any(path[: len(secret)] == secret for secret in secrets)


def _encloses(path: tuple[str, ...], secrets: SecretPaths) -> bool:
    """Whether the value at ``path`` is or may contain a secret."""
    return _is_secret(path, secrets) or any(secret[: len(path)] == path for secret in secrets)


def _env_path(name: str) -> tuple[str, ...] | None:
    upper = name.upper()
    if not upper.startswith(ENV_PREFIX) or upper == ENV_PREFIX + "CONFIG":
        return None
    return tuple(upper.removeprefix(ENV_PREFIX).lower().split("__"))


def _json_kind(model: type[BaseModel], path: tuple[str, ...]) -> str | None:
    """What JSON the setting at ``path`` takes from the environment, None if plain text."""
    annotation: Any = model
    for key in path:
        fields = {name.lower(): field for name, field in _model_fields(annotation).items()}
        if key not in fields:
            return None
        annotation = fields[key].annotation
    for option in _options(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return 'a JSON object such as {"key": "value"}'
        origin = get_origin(option)
        if origin in (list, tuple, set, frozenset):
            return 'a JSON list such as ["a", "b"]'
        if origin is dict:
            return 'a JSON object such as {"key": "value"}'
    return None


def _model_fields(annotation: Any) -> Mapping[str, Any]:
    for option in _options(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option.model_fields
    return {}


def _options(annotation: Any) -> tuple[Any, ...]:
    """The members of a union (``X | None``), else the annotation itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(arg for arg in get_args(annotation) if arg is not type(None))
    return (annotation,)


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(arg) for arg in get_args(annotation))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]
