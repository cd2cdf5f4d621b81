"""The scorecard: thresholds to points, weighted mean, missing data made explicit."""

from __future__ import annotations

import pytest

from monitor.rules.expr import Value
from monitor.rules.model import Bands, Measure, Origin, Scorecard
from monitor.scoring import score_account
from monitor.scoring.scorecard import measure_points

HERE = Origin("rules/scorecard.toml", 1)


def measure(metric: str, weight: float, lower: bool = False) -> Measure:
    steps = (
        ((1, 100.0), (3, 70.0), (6, 40.0)) if lower else ((3.0, 100.0), (1.5, 80.0), (0.5, 50.0))
    )
    return Measure(
        metric=metric,
        weight=weight,
        steps=steps,
        direction="lower_is_better" if lower else "higher_is_better",
        otherwise=10.0 if lower else 0.0,
        label=metric,
        origin=HERE,
    )


CARD = Scorecard(
    measures=(measure("logins", 3), measure("tickets", 1, lower=True)),
    bands=Bands(green=70, yellow=40),
    bands_by_tier={"S": Bands(green=90, yellow=50)},
    min_coverage=0.5,
)


@pytest.mark.parametrize(
    ("value", "points"), [(5.0, 100), (3.0, 100), (2.9, 80), (1.5, 80), (0.5, 50), (0.49, 0)]
)
def test_higher_is_better_thresholds(value: float, points: float) -> None:
    assert measure_points(measure("m", 1), value) == points


@pytest.mark.parametrize(("value", "points"), [(0, 100), (1, 100), (2, 70), (6, 40), (7, 10)])
def test_lower_is_better_thresholds(value: float, points: float) -> None:
    assert measure_points(measure("m", 1, lower=True), value) == points


def test_score_is_the_weighted_mean_and_bands_follow_the_tier() -> None:
    env: dict[str, Value] = {"logins": 2.0, "tickets": 7}  # 80 points x3, 10 points x1
    result = score_account(CARD, "A", env)
    assert result.score == pytest.approx((80 * 3 + 10) / 4)  # 62.5
    assert result.band == "yellow"
    assert result.coverage == 1.0
    assert score_account(CARD, "B", {"logins": 5.0, "tickets": 0}).band == "green"
    # The same 100-point account is green for A but S has stricter bands.
    assert score_account(CARD, "S", {"logins": 2.0, "tickets": 1}).band == "yellow"


def test_a_missing_measure_is_left_out_and_its_weight_redistributed() -> None:
    result = score_account(CARD, "A", {"logins": 2.0, "tickets": None})
    assert result.score == 80.0  # only logins counts, not (80*3 + 0) / 4
    assert result.coverage == 0.75
    assert result.missing == ("tickets",)
    assert result.band == "green"


def test_too_little_data_gives_band_unknown_never_a_confident_colour() -> None:
    thin = score_account(CARD, "A", {"logins": None, "tickets": 0})  # 25% of the weight
    assert thin.band == "unknown"
    assert thin.coverage == 0.25
    blind = score_account(CARD, "A", {})
    assert blind.score is None and blind.band == "unknown"
    # Text or true/false where a number belongs counts as no data, not as 0.
    assert score_account(CARD, "A", {"logins": "lots", "tickets": True}).band == "unknown"
