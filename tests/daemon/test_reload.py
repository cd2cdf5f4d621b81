"""Hot reload: a valid edit is swapped in whole; an invalid one changes nothing, is
logged with every problem and reported to ops once; the last good rules stay in force."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from monitor.clock import FixedClock
from monitor.config import Settings
from monitor.daemon.reload import Reloader, ReloadResult
from monitor.errors import CsmonError

ROOT = Path(__file__).resolve().parents[2]
BROKEN_RULE = 'when = "logins_change_14d <= -0.4 and not onboarding"'


class OpsInbox:
    def __init__(self) -> None:
        self.notices: list[tuple[str, list[str]]] = []

    def __call__(self, summary: str, problems: Sequence[str]) -> None:
        self.notices.append((summary, list(problems)))


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    rules, alerts = tmp_path / "rules", tmp_path / "alerts"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "alerts", alerts)
    return rules, alerts


@pytest.fixture
def inbox() -> OpsInbox:
    return OpsInbox()


@pytest.fixture
def reloader(folders: tuple[Path, Path], inbox: OpsInbox, clock: FixedClock) -> Iterator[Reloader]:
    rules, alerts = folders
    settings = Settings(rules_dir=rules, alerts_dir=alerts)
    loaded = Reloader(settings, config_path=None, clock=clock, notify_ops=inbox)
    loaded.load()
    yield loaded
    loaded.close()


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def usage_drop_condition(reloader: Reloader) -> str:
    rule = next(r for r in reloader.current.rules.alerts if r.name == "usage_drop")
    return str(rule.when.source if hasattr(rule.when, "source") else rule.when)


def test_nothing_changed_nothing_reloaded(reloader: Reloader) -> None:
    before = reloader.current
    assert reloader.check() is ReloadResult.UNCHANGED
    assert reloader.current is before


def test_a_valid_edit_is_swapped_in(
    reloader: Reloader, folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    before = reloader.current
    edit(folders[0] / "alerts.toml", "logins_change_14d <= -0.4", "logins_change_14d <= -0.5")
    with caplog.at_level(logging.INFO, "monitor.daemon"):
        assert reloader.check() is ReloadResult.RELOADED
    after = reloader.current
    assert after is not before
    assert after.rules.fingerprint != before.rules.fingerprint
    assert "-0.5" in usage_drop_condition(reloader)
    assert "Reloaded the rules and templates" in caplog.text


def test_an_invalid_edit_keeps_the_old_rules_and_tells_ops_once(
    reloader: Reloader,
    folders: tuple[Path, Path],
    inbox: OpsInbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = reloader.current
    alerts_toml = folders[0] / "alerts.toml"
    edit(alerts_toml, BROKEN_RULE, 'when = "logins_chnage_14d <= -0.4 and not onboarding"')
    with caplog.at_level(logging.INFO, "monitor.daemon"):
        assert reloader.check() is ReloadResult.INVALID
        assert reloader.check() is ReloadResult.INVALID  # the next polls stay quiet
        assert reloader.check() is ReloadResult.INVALID
    assert reloader.current is before  # the last good rules stay in force
    assert len(inbox.notices) == 1
    summary, problems = inbox.notices[0]
    assert "last good rules stay in force" in summary
    assert any(p.startswith(f"{alerts_toml}:11:") and "logins_chnage_14d" in p for p in problems)
    logged = [r.getMessage() for r in caplog.records]
    assert sum("keeping the last good rules" in m for m in logged) == 1
    assert any(m.startswith(f"{alerts_toml}:11:") for m in logged)

    # A different broken edit is news: ops hear about it too.
    edit(alerts_toml, "logins_chnage_14d", "logins_chnage_14d +")
    assert reloader.check() is ReloadResult.INVALID
    assert len(inbox.notices) == 2
    # Fixed: swapped in, and a later relapse to the first breakage is not re-announced.
    edit(alerts_toml, 'when = "logins_chnage_14d + <= -0.4', 'when = "logins_change_14d <= -0.6')
    assert reloader.check() is ReloadResult.RELOADED
    assert "-0.6" in usage_drop_condition(reloader)


def test_a_broken_template_keeps_the_last_good_templates_in_force(
    reloader: Reloader, folders: tuple[Path, Path], inbox: OpsInbox
) -> None:
    before = reloader.current
    good_slack = (before.templates_dir / "slack.j2").read_text(encoding="utf-8")
    edit(folders[1] / "slack.j2", "{{ a.rule }}", "{{ a.rule }")
    assert reloader.check() is ReloadResult.INVALID
    assert reloader.current is before
    # The daemon renders from its own validated copy: the broken file never reaches it.
    assert (reloader.current.templates_dir / "slack.j2").read_text(encoding="utf-8") == good_slack
    assert len(inbox.notices) == 1
    assert any("slack.j2" in p for p in inbox.notices[0][1])


def test_a_rule_and_a_template_edit_are_validated_together(
    reloader: Reloader, folders: tuple[Path, Path]
) -> None:
    before = reloader.current
    edit(folders[0] / "alerts.toml", "logins_change_14d <= -0.4", "logins_change_14d <= -0.5")
    edit(folders[1] / "slack.j2", "{{ a.rule }}", "{{ a.rule }")
    assert reloader.check() is ReloadResult.INVALID
    assert reloader.current is before  # not the good half of the edit either


def test_sighup_revalidates_without_telling_ops_again(
    reloader: Reloader, folders: tuple[Path, Path], inbox: OpsInbox
) -> None:
    edit(folders[0] / "alerts.toml", BROKEN_RULE, 'when = "logins_chnage_14d <= -0.4"')
    assert reloader.check() is ReloadResult.INVALID
    assert reloader.check(force=True) is ReloadResult.INVALID
    assert len(inbox.notices) == 1


def test_invalid_rules_at_start_stop_the_start(
    folders: tuple[Path, Path], inbox: OpsInbox, clock: FixedClock
) -> None:
    edit(folders[0] / "alerts.toml", BROKEN_RULE, 'when = "logins_chnage_14d <= -0.4"')
    reloader = Reloader(
        Settings(rules_dir=folders[0], alerts_dir=folders[1]),
        config_path=None,
        clock=clock,
        notify_ops=inbox,
    )
    with pytest.raises(CsmonError, match="logins_chnage_14d"):
        reloader.load()
    reloader.close()


def test_routing_edits_in_the_config_file_are_reloaded(
    folders: tuple[Path, Path], inbox: OpsInbox, clock: FixedClock, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[routing]\ndefault_receivers = ["console"]\n', encoding="utf-8")
    from monitor.config import load_settings

    settings = load_settings(config)
    reloader = Reloader(settings, config_path=config, clock=clock, notify_ops=inbox)
    reloader.load()
    config.write_text('[routing]\ndefault_receivers = ["file"]\n', encoding="utf-8")
    assert reloader.check() is ReloadResult.RELOADED
    assert reloader.current.settings.routing.default_receivers == ("file",)
    config.write_text('[routing]\ndefault_receivers = ["pager"]\n', encoding="utf-8")
    assert reloader.check() is ReloadResult.INVALID
    assert reloader.current.settings.routing.default_receivers == ("file",)
    assert "pager" in inbox.notices[0][1][0]
    reloader.close()


def test_ops_notice_goes_straight_through_the_channel_and_escapes_data(
    tmp_path: Path, clock: FixedClock
) -> None:
    from monitor.daemon.ops import OpsNotifier, ops_message
    from monitor.notify import FileChannel

    path = tmp_path / "ops.jsonl"
    notify = OpsNotifier(["file", "slack:#cs-ops"], {"file": FileChannel(path, clock=clock)})
    notify("csmon: an edit is invalid", ["rules/a.toml:3:7: unknown name <!channel>"])
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["target"] == "file"
    assert "rules/a.toml:3:7: unknown name <!channel>" in record["text"]
    slack = ops_message("csmon: an edit is invalid", ["unknown name <!channel>"]).slack_text
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack
