"""Configuration precedence (defaults < file < environment < CLI) and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_settings
from monitor.errors import ConfigError

# conftest.py: no CSMON_* variables, and an empty working directory.


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


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "CSMON_DAEMON__OPS_RECEIVERS",
            "[broken",
            "environment variable CSMON_DAEMON__OPS_RECEIVERS = '[broken' is invalid: "
            'daemon.ops_receivers takes a JSON list such as ["a", "b"] (Expecting value',
        ),
        (
            "CSMON_ROUTING__FALLBACK",
            "slack:#cs-unowned",
            "environment variable CSMON_ROUTING__FALLBACK = 'slack:#cs-unowned' is invalid: "
            "routing.fallback takes a JSON list",
        ),
        (
            "CSMON_ROUTES",
            '[{"receivers": ["owner"]}',
            'environment variable CSMON_ROUTES = \'[{"receivers": ["owner"]}\' is invalid: '
            "routes takes a JSON list",
        ),
        (
            "CSMON_ROUTING",
            "{default_receivers: []}",
            "environment variable CSMON_ROUTING = '{default_receivers: []}' is invalid: "
            'routing takes a JSON object such as {"key": "value"}',
        ),
    ],
)
def test_malformed_json_in_an_environment_variable_names_it_and_what_it_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    write(tmp_path / "config.toml", "[ingest]\nbatch_size = 1000\n")  # a fine file
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert str(excinfo.value).startswith(message)
    assert "cannot be read" not in str(excinfo.value)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[daemon]\nops_receivers = ["slack:#cs-ops"]\n',
            "c.toml: daemon.ops_receivers = ['slack:#cs-ops'] is invalid: receiver "
            "'slack:#cs-ops' needs slack, which is off (set slack.token); use console or file.",
        ),
        (
            '[slack]\ntoken = "xoxb-1"\n'
            '[daemon]\nops_receivers = ["file", "email:ops@example.com"]\n',
            "c.toml: daemon.ops_receivers = ['file', 'email:ops@example.com'] is invalid: receiver "
            "'email:ops@example.com' needs email, which is off (set email.smtp_host); "
            "use slack:#channel, slack:C0123ABCD, console or file.",
        ),
        (
            '[daemon]\nops_receivers = ["pager"]\n',
            "c.toml: daemon.ops_receivers = ['pager'] is invalid: ops receivers are fixed "
            "addresses, not 'pager'; use slack:#channel, slack:C0123ABCD, "
            "email:team@example.com, console or file.",
        ),
        (
            '[routing]\nfallback = ["slack:#cs-unowned"]\n',
            "c.toml: routing.fallback = ['slack:#cs-unowned'] is invalid: receiver "
            "'slack:#cs-unowned' needs slack, which is off (set slack.token); "
            "use console or file.",
        ),
        (
            '[email]\nsmtp_host = "smtp"\n[[routes]]\nreceivers = ["owner:slack"]\n',
            "c.toml: routes.0.receivers = ['owner:slack'] is invalid: receiver 'owner:slack' "
            "needs slack, which is off (set slack.token); "
            "use owner, owner:email, email:team@example.com, console or file.",
        ),
    ],
)
def test_receivers_must_use_a_channel_that_is_on_naming_the_key_and_what_is_allowed(
    tmp_path: Path, text: str, message: str
) -> None:
    cfg = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as excinfo:
        load_settings(cfg)
    assert str(excinfo.value) == f"{tmp_path}/{message}"


def test_ops_receivers_on_configured_channels_load(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.toml",
        '[slack]\ntoken = "xoxb-1"\n[email]\nsmtp_host = "smtp"\n'
        '[daemon]\nops_receivers = ["slack:#cs-ops", "email:ops@example.com", "console", "file"]\n',
    )
    assert len(load_settings(cfg).daemon.ops_receivers) == 4


def test_relative_ca_file_follows_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy = tmp_path / "deploy"
    (deploy / "certs").mkdir(parents=True)
    (deploy / "certs" / "ca.pem").write_text("not checked here")
    cfg = write(deploy / "c.toml", '[email]\nsmtp_host = "smtp"\nca_file = "certs/ca.pem"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings(cfg).email.ca_file == deploy / "certs" / "ca.pem"
    # From the environment too, like rules_dir.
    monkeypatch.setenv("CSMON_EMAIL__CA_FILE", "certs/ca.pem")
    assert load_settings(cfg).email.ca_file == deploy / "certs" / "ca.pem"
    absolute = tmp_path / "abs.pem"
    absolute.write_text("")
    monkeypatch.setenv("CSMON_EMAIL__CA_FILE", str(absolute))
    assert load_settings(cfg).email.ca_file == absolute


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[email]\nsmtp_host = "smtp"\nca_file = "certs/ca.pem"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_settings(cfg)
    assert str(excinfo.value) == (
        f"{cfg}: email.ca_file = 'certs/ca.pem' is invalid: {tmp_path}/certs/ca.pem is not a "
        "file (a relative path is taken from the config file's folder)."
    )


@pytest.mark.parametrize("value", ["08:00+02:00", "08:00Z", "08:00:00-05:00"])
def test_digest_time_with_a_utc_offset_is_refused(tmp_path: Path, value: str) -> None:
    cfg = write(tmp_path / "c.toml", f'[digest]\ntime = "{value}"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_settings(cfg)
    assert str(excinfo.value) == (
        f"{cfg}: digest.time = {value!r} is invalid: digest.time is a local wall-clock time "
        "in digest.timezone; remove the offset."
    )


def test_digest_time_is_a_local_wall_time(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[digest]\ntime = "07:30:59"\ntimezone = "Europe/Berlin"\n')
    assert load_settings(cfg).digest.time == "07:30"
