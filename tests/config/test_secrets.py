"""Config errors never show a secret: not in the one-sentence message, not on the
command line's output, not in the daemon's reload log nor in the ops notice.

Each case provokes a different kind of validation error next to (or on) a secret:
a check spanning a section, a wrong type on the secret itself, a misspelt key, a
malformed JSON variable, and a URL with a password in it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.clock import FixedClock
from monitor.config import load_settings, mask_url
from monitor.daemon.reload import Reloader, ReloadResult
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hunter2-Sup3r-s3cret"

# (config file text, environment): each must be refused without showing SECRET.
CASES = {
    "email password without username (file)": (f'[email]\npassword = "{SECRET}"\n', {}),
    "email password without username (env)": ("", {"CSMON_EMAIL__PASSWORD": SECRET}),
    "email section as JSON (env)": ("", {"CSMON_EMAIL": f'{{"password": "{SECRET}"}}'}),
    "email section, malformed JSON (env)": ("", {"CSMON_EMAIL": f'{{"password": "{SECRET}"'}),
    "email password of the wrong type": (f'[email]\nusername = "u"\npassword = ["{SECRET}"]\n', {}),
    "email section not a table": (f'email = "{SECRET}"\n', {}),
    "email password misspelt": (f'[email]\npasword = "{SECRET}"\n', {}),
    "email password, other key invalid": (
        f'[email]\nusername = "u"\npassword = "{SECRET}"\nsmtp_port = 0\nsender = "x"\n',
        {},
    ),
    "slack token of the wrong type": (f'[slack]\ntoken = ["{SECRET}"]\n', {}),
    "slack token misspelt": (f'[slack]\ntokne = "{SECRET}"\n', {}),
    "slack token, other key invalid": (f'[slack]\ntoken = "{SECRET}"\nbase_url = "x"\n', {}),
    "write key not a list (file)": (f'[http]\nwrite_keys = "{SECRET}"\n', {}),
    "write keys, malformed JSON (env)": ("", {"CSMON_HTTP__WRITE_KEYS": f'["{SECRET}"'}),
    "write keys not a list (env)": ("", {"CSMON_HTTP__WRITE_KEYS": f'"{SECRET}"'}),
    "write keys in a section of the wrong shape (env)": (
        "",
        {"CSMON_HTTP": f'{{"write_keys": ["{SECRET}"], "port": "x"}}'},
    ),
    "database URL with a password (file)": (
        f'database_url = "mysql://admin:{SECRET}@db.example.com/csmon"\n',
        {},
    ),
    "database URL with a password (env)": (
        "",
        {"CSMON_DATABASE_URL": f"mysql+pymysql://admin:{SECRET}@db:3306/csmon?ssl=true"},
    ),
    "database URL with a password in the query": (
        f'database_url = "mysql://db/csmon?user=admin&password={SECRET}"\n',
        {},
    ),
}


def configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, env: dict[str, str]
) -> Path:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "env"), CASES.values(), ids=CASES.keys())
def test_a_config_error_never_shows_a_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    text: str,
    env: dict[str, str],
) -> None:
    path = configure(tmp_path, monkeypatch, text, env)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert SECRET not in message
    assert " is invalid" in message or "is not a known setting" in message  # still says what
    # pydantic's own report (raw values) is not even kept as the error's context.
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert SECRET not in caplog.text

    result = CliRunner().invoke(app, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 2
    assert SECRET not in result.output
    assert SECRET not in caplog.text


def test_the_error_still_names_the_key_and_shows_what_is_not_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[email]\nsmtp_host = "smtp.example.com"\npassword = "{SECRET}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        f"{path}: email.password is invalid (value hidden: secret): "
        "set email.username too, or remove the password."
    )
    path.write_text('database_url = "mysql://admin:pw-1234@db/csmon"\n')
    with pytest.raises(ConfigError, match=r"'mysql://admin:\*{10}@db/csmon' is invalid"):
        load_settings(path)
    path.write_text(f'[slack]\ntoken = ["{SECRET}"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        f"{path}: slack.token is invalid (value hidden: secret): Input should be a valid string."
    )


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql+psycopg://csmon:pw@db:5432/csmon",
            "postgresql+psycopg://csmon:**********@db:5432/csmon",
        ),
        ("postgresql://u:p@ss/w@rd@db/x", "postgresql://u:**********@db/x"),
        ("postgresql://csmon@db/x", "postgresql://csmon@db/x"),
        (
            "postgresql://db/x?password=pw&sslmode=require",
            "postgresql://db/x?password=**********&sslmode=require",
        ),
        ("sqlite:///csmon.db", "sqlite:///csmon.db"),
    ],
)
def test_mask_url_hides_only_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


class OpsInbox:
    def __init__(self) -> None:
        self.notices: list[tuple[str, list[str]]] = []

    def __call__(self, summary: str, problems: Sequence[str]) -> None:
        self.notices.append((summary, list(problems)))


def test_a_broken_config_edit_reaches_the_log_and_ops_without_its_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "alerts", tmp_path / "alerts")
    config = tmp_path / "config.toml"
    config.write_text(f'[email]\nusername = "csmon"\npassword = "{SECRET}"\n', encoding="utf-8")
    inbox = OpsInbox()
    clock = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    reloader = Reloader(load_settings(config), config_path=config, clock=clock, notify_ops=inbox)
    try:
        reloader.load()
        config.write_text(f'[email]\npassword = "{SECRET}"\n', encoding="utf-8")  # no username
        with caplog.at_level(logging.DEBUG):
            assert reloader.check() is ReloadResult.INVALID
    finally:
        reloader.close()
    problems = [problem for _, found in inbox.notices for problem in found]
    assert any("set email.username too" in problem for problem in problems)
    assert "set email.username too" in caplog.text
    assert SECRET not in caplog.text
    assert all(SECRET not in summary + "".join(found) for summary, found in inbox.notices)
