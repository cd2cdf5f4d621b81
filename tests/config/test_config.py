"""Configuration precedence (defaults < file < environment < CLI) and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_settings
from monitor.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "CSMON_CONFIG",
        "CSMON_DATABASE_URL",
        "CSMON_INGEST__BATCH_SIZE",
        "CSMON_TIMEZONE",
    ):
        monkeypatch.delenv(name, raising=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_apply_without_a_config_file(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///csmon.db"
    assert settings.ingest.batch_size == 50_000
    # No rules/ here: the shipped default rules apply, so csmon works from anywhere.
    assert (settings.rules_dir / "alerts.toml").is_file()
    (tmp_path / "rules").mkdir()
    assert load_settings().rules_dir == tmp_path / "rules"


def test_file_then_environment_then_cli_each_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(
        tmp_path / "c.toml",
        'database_url = "sqlite:///from-file.db"\ntimezone = "Europe/Berlin"\n'
        "[ingest]\nbatch_size = 1000\nmax_payload_bytes = 4096\n",
    )
    assert load_settings(cfg).database_url == "sqlite:///from-file.db"

    monkeypatch.setenv("CSMON_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("CSMON_INGEST__BATCH_SIZE", "2000")
    settings = load_settings(cfg)
    assert settings.database_url == "sqlite:///from-env.db"
    # A nested env override replaces one key and keeps its siblings from the file.
    assert settings.ingest.batch_size == 2000
    assert settings.ingest.max_payload_bytes == 4096
    assert settings.timezone == "Europe/Berlin"

    assert load_settings(cfg, database_url="sqlite:///from-cli.db").database_url == (
        "sqlite:///from-cli.db"
    )


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "elsewhere.toml", 'timezone = "America/New_York"\n')
    monkeypatch.setenv("CSMON_CONFIG", str(cfg))
    assert load_settings().timezone == "America/New_York"


def test_relative_rule_folders_follow_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    cfg = write(tmp_path / "deploy" / "c.toml", 'rules_dir = "my-rules"\n')
    assert load_settings(cfg).rules_dir == tmp_path / "deploy" / "my-rules"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[ingest]\nbatch_size = 'ten'\n",
            "c.toml: ingest.batch_size = 'ten' is invalid: Input should be a valid integer",
        ),
        (
            "[ingest]\nbatch_size = 5\n",
            "ingest.batch_size = 5 is invalid: Input should be greater than or equal to 100",
        ),
        ('timezone = "Mars/Olympus"\n', "timezone = 'Mars/Olympus' is invalid: use an IANA"),
        ('databse_url = "x"\n', "c.toml: databse_url is not a known setting"),
        ('database_url = "mysql://x"\n', "use a sqlite:/// or postgresql+psycopg:// URL"),
        ("timezone = \n", "cannot be read"),
    ],
)
def test_invalid_values_name_the_key_the_value_and_what_is_allowed(
    tmp_path: Path, text: str, message: str
) -> None:
    cfg = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as excinfo:
        load_settings(cfg)
    assert message in str(excinfo.value)


def test_invalid_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSMON_INGEST__BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match="environment variable CSMON_INGEST__BATCH_SIZE = 'lots'"):
        load_settings()


def test_cli_reports_config_errors_in_one_sentence_without_traceback(tmp_path: Path) -> None:
    write(tmp_path / "config.toml", "[ingest]\nbatch_size = 'ten'\n")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "ingest.batch_size = 'ten' is invalid" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_named_config_file_must_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--config", "missing.toml", "db", "upgrade"])
    assert result.exit_code == 2
    assert "Config file missing.toml does not exist." in result.output


def test_shipped_config_file_is_valid_and_matches_the_defaults() -> None:
    shipped = Path(__file__).parents[2] / "config.toml"
    assert load_settings(shipped).model_dump(exclude={"rules_dir", "alerts_dir"}) == (
        load_settings().model_dump(exclude={"rules_dir", "alerts_dir"})
    )
