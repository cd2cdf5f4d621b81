"""The synthetic portfolio: deterministic, realistic in shape, and the patterns it plants
are really in the events (checked from the written files, as csmon will see them)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import orjson
import pytest

from monitor.clock import FixedClock
from monitor.demo import Archetype, DemoParams, Portfolio, build_portfolio, generate
from monitor.demo.names import ESCAPE_TEST_NAMES
from monitor.timeutil import to_ms

END = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LOGIN = "Signed In"
CORE = {"Report Created", "Dashboard Shared", "Report Exported", "Integration Connected"}


@dataclass
class Usage:
    """What the events file says, per account: counts by (age in days, event name)."""

    counts: dict[str, Counter[tuple[int, str]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    lines: int = 0
    without_group_id: int = 0
    usage_events: int = 0
    weekday_events: Counter[int] = field(default_factory=Counter)
    nps_scores: set[int] = field(default_factory=set)

    def total(self, account_id: str, name: str | None, ages: range) -> int:
        counts = self.counts.get(account_id, Counter())
        return sum(n for (age, event), n in counts.items() if age in ages and name in (None, event))

    def active_ages(self, account_id: str) -> set[int]:
        return {age for age, _ in self.counts.get(account_id, Counter())}


def read_usage(path: Path, end: datetime) -> Usage:
    """Parse the events as an importer would: the account is context.groupId, else the
    account of the user's earlier group call (which must exist)."""
    usage = Usage()
    account_of: dict[str, str] = {}
    previous = ""
    with path.open("rb") as lines:
        for raw in lines:
            usage.lines += 1
            doc = orjson.loads(raw)
            assert doc["timestamp"] >= previous, "lines are sorted by timestamp"
            previous = doc["timestamp"]
            if doc["type"] == "group":
                account_of[doc["userId"]] = doc["groupId"]
                continue
            if doc["type"] == "identify":
                continue
            group_id = doc.get("context", {}).get("groupId")
            usage.without_group_id += group_id is None
            account_id = group_id or account_of[doc["userId"]]
            moment = datetime.fromisoformat(doc["timestamp"])
            name = doc.get("event") or "page:/" + doc["properties"]["path"].split("/")[1]
            usage.counts[account_id][((end.date() - moment.date()).days, name)] += 1
            usage.usage_events += 1
            usage.weekday_events[moment.weekday()] += 1
            if name == "NPS Submitted":
                usage.nps_scores.add(doc["properties"]["score"])
    return usage


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Portfolio, Path, Usage]:
    folder = tmp_path_factory.mktemp("demo")
    portfolio, files = generate(folder, clock=FixedClock(END), seed=7, accounts=150, days=90)
    return portfolio, folder, read_usage(files.events, END)


def by_archetype(portfolio: Portfolio, archetype: Archetype) -> list[str]:
    ids = [a.account_id for a in portfolio.accounts if a.archetype is archetype]
    assert ids, f"the generator planted no {archetype} account"
    return ids


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as rows:
        return list(csv.DictReader(rows))


# -- determinism ---------------------------------------------------------------------


def test_the_same_seed_writes_byte_identical_files_and_another_seed_does_not(
    tmp_path: Path,
) -> None:
    def files(folder: str, seed: int, compress: bool = False) -> dict[str, bytes]:
        _, written = generate(
            tmp_path / folder, clock=FixedClock(END), seed=seed, accounts=30, days=20,
            compress=compress,
        )  # fmt: skip
        return {path.name: path.read_bytes() for path in written.paths}

    first = files("a", seed=1)
    assert first == files("b", seed=1)
    assert files("c", seed=1, compress=True) == files("d", seed=1, compress=True)
    other = files("e", seed=2)
    assert set(other) == set(first)
    assert all(other[name] != first[name] for name in first)


# -- sizes and shape -----------------------------------------------------------------


def test_sizes_follow_the_parameters(demo: tuple[Portfolio, Path, Usage]) -> None:
    portfolio, folder, usage = demo
    accounts = read_csv(folder / "accounts.csv")
    users = read_csv(folder / "users.csv")
    assert len(accounts) == 150
    assert len({a["account_id"] for a in accounts}) == 150
    assert len(users) == portfolio.users
    assert {u["role"] for u in users} == {"decision_maker", "champion", "user"}
    # ~11 events per account and day, so 2k accounts make ~2M events over 90 days.
    assert 9.5 <= usage.usage_events / (150 * 90) <= 12.5
    # Every usage event is one line, plus one group and one identify per active user.
    assert usage.lines - usage.usage_events <= 2 * portfolio.users


def test_events_per_account_day_scales_the_volume(tmp_path: Path) -> None:
    def events(rate: float) -> int:
        _, files = generate(
            tmp_path / str(rate), clock=FixedClock(END), accounts=40, days=30,
            events_per_account_day=rate,
        )  # fmt: skip
        return files.event_lines

    assert 2.5 < events(8.0) / events(2.0) < 5.5


def test_arr_follows_a_power_law_with_an_s_and_an_a_tier() -> None:
    portfolio = build_portfolio(DemoParams(end=END, seed=3))
    customers = [a for a in portfolio.accounts if a.arr > 0]
    arrs = sorted((a.arr for a in customers), reverse=True)
    assert sum(arrs[: len(arrs) // 10]) > 0.5 * sum(arrs)
    assert sum(arr >= 100_000 for arr in arrs) >= 5
    assert 0.12 <= sum(arr >= 20_000 for arr in arrs) / len(arrs) <= 0.3
    big = [a.seats for a in customers if a.arr >= 100_000]
    small = [a.seats for a in customers if a.arr < 10_000]
    assert min(big) > max(small), "seats grow with ARR"
    assert 8 <= len({a.csm_email for a in portfolio.accounts}) <= 12
    assert 1 <= sum(a.strategic for a in portfolio.accounts) <= 20
    renewals = [a.renewal_date for a in customers if a.renewal_date is not None]
    assert min(renewals) > END.date() and max(renewals) <= END.date() + timedelta(days=366)
    quarters = Counter((d - END.date()).days // 92 for d in renewals)
    assert min(quarters.values()) > len(renewals) / 8, "renewals spread over the year"


def test_the_escape_test_names_are_planted(demo: tuple[Portfolio, Path, Usage]) -> None:
    _, folder, _ = demo
    names = {a["name"] for a in read_csv(folder / "accounts.csv")}
    assert set(ESCAPE_TEST_NAMES) <= names
    assert "<!channel> Labs" in names
    assert any("&" in n for n in names) and any('"' in n for n in names)


# -- the events ----------------------------------------------------------------------


def test_events_use_the_default_vocabulary(demo: tuple[Portfolio, Path, Usage]) -> None:
    _, _, usage = demo
    names = {name for counts in usage.counts.values() for _, name in counts}
    assert {LOGIN, "Support Ticket Opened", "NPS Submitted", "page:/help"} | CORE <= names
    assert {"page:/dashboard", "page:/reports"} <= names
    assert usage.nps_scores <= set(range(11)) and len(usage.nps_scores) >= 5


def test_every_line_is_a_valid_segment_message_inside_the_window(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    _, folder, usage = demo
    start, end = to_ms(END - timedelta(days=90)), to_ms(END)
    ids = set()
    users_with_group: set[str] = set()
    with (folder / "events.jsonl").open("rb") as lines:
        for raw in lines:
            doc = orjson.loads(raw)
            assert doc["timestamp"].endswith("Z")
            assert start <= to_ms(datetime.fromisoformat(doc["timestamp"])) < end
            assert doc["userId"].startswith("usr-")
            ids.add(doc["messageId"])
            if doc["type"] == "group":
                users_with_group.add(doc["userId"])
            elif doc["type"] in ("track", "page"):
                assert doc["userId"] in users_with_group, "group comes before the first event"
    assert len(ids) == usage.lines, "messageId is unique"
    # A realistic share of events rely on the user's group call instead of context.groupId.
    assert 0.03 < usage.without_group_id / usage.usage_events < 0.2


def test_weekends_see_about_a_fifth_of_weekday_activity(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    _, _, usage = demo
    weekday = sum(usage.weekday_events[d] for d in range(5)) / 5
    weekend = sum(usage.weekday_events[d] for d in (5, 6)) / 2
    assert 0.1 < weekend / weekday < 0.35


# -- the planted archetypes, as the events show them --------------------------------


def test_decaying_accounts_log_in_far_less_in_the_last_two_weeks(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    portfolio, _, usage = demo
    for account_id in by_archetype(portfolio, Archetype.DECAYING):
        recent = usage.total(account_id, LOGIN, range(14))
        before = usage.total(account_id, LOGIN, range(42, 90)) / 48 * 14
        assert recent < 0.5 * before, account_id


def test_help_spike_accounts_view_help_pages_three_times_their_baseline(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    portfolio, _, usage = demo
    spiking = by_archetype(portfolio, Archetype.HELP_SPIKE)
    for account_id in spiking:
        recent = usage.total(account_id, "page:/help", range(14))
        baseline = usage.total(account_id, "page:/help", range(14, 90)) / 76 * 14
        assert recent >= max(3 * baseline, 5), account_id
    # Tickets are rarer, so they are compared over all spiking accounts together.
    tickets = [usage.total(a, "Support Ticket Opened", range(14)) for a in spiking]
    earlier = [usage.total(a, "Support Ticket Opened", range(14, 90)) / 76 * 14 for a in spiking]
    assert sum(tickets) >= 3 * sum(earlier)


def test_reactivated_accounts_were_silent_for_weeks_then_came_back(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    portfolio, _, usage = demo
    for account_id in by_archetype(portfolio, Archetype.REACTIVATED):
        ages = usage.active_ages(account_id)
        recent = {age for age in ages if age < 7}
        assert recent and usage.total(account_id, LOGIN, range(7)) > 0, account_id
        gap_start = max(recent) + 1
        earlier = [age for age in ages if age >= gap_start]
        gap = (min(earlier) if earlier else 90) - gap_start
        assert gap >= 21, account_id


def test_dormant_accounts_have_no_events_and_onboarding_ones_none_before_creation(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    portfolio, _, usage = demo
    for account_id in by_archetype(portfolio, Archetype.DORMANT):
        assert not usage.active_ages(account_id)
    accounts = {a.account_id: a for a in portfolio.accounts}
    for account_id in by_archetype(portfolio, Archetype.ONBOARDING):
        created_age = (END.date() - accounts[account_id].created_at).days
        assert created_age < 30
        assert usage.active_ages(account_id), account_id
        assert max(usage.active_ages(account_id)) <= created_age


def test_growing_accounts_use_the_product_more_at_the_end(
    demo: tuple[Portfolio, Path, Usage],
) -> None:
    portfolio, _, usage = demo
    for account_id in by_archetype(portfolio, Archetype.GROWING):
        assert usage.total(account_id, None, range(28)) > usage.total(
            account_id, None, range(62, 90)
        )


# -- contracts -----------------------------------------------------------------------


def test_contract_history_has_real_outcomes(demo: tuple[Portfolio, Path, Usage]) -> None:
    portfolio, folder, usage = demo
    rows = read_csv(folder / "contracts.csv")
    assert {r["status"] for r in rows} == {"active", "renewed", "churned"}
    chains: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        chains[row["account_id"]].append(row)
    accounts = {a["account_id"]: a for a in read_csv(folder / "accounts.csv")}
    expanded = 0
    for account_id, chain in chains.items():
        chain.sort(key=lambda r: r["start"])
        assert 1 <= len(chain) <= 3
        assert all(r["status"] == "renewed" for r in chain[:-1])
        for old, new in pairwise(chain):
            assert old["end"] == new["start"], "yearly contracts follow each other"
            expanded += float(new["arr"]) > float(old["arr"])
        last = chain[-1]
        if last["status"] == "active":
            assert accounts[account_id]["renewal_date"] == last["end"]
            assert float(accounts[account_id]["arr"]) == float(last["arr"])
        else:
            assert accounts[account_id]["renewal_date"] == ""
            churned_age = (END.date() - date.fromisoformat(last["end"])).days
            assert churned_age > 0
            assert all(age > churned_age for age in usage.active_ages(account_id))
    assert expanded >= 5
    churned = by_archetype(portfolio, Archetype.CHURNED)
    assert {a for a, chain in chains.items() if chain[-1]["status"] == "churned"} == set(churned)
    # Some churns fall inside the window, with usage before them: backtests can see them.
    assert any(usage.active_ages(account_id) for account_id in churned)
