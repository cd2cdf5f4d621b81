"""The health scorecard: weighted measures, each mapping a metric to 0-100 points.

Missing data is explicit. A measure whose metric is null is left out and its weight
shared among the others; when the weight with data falls below ``min_coverage``
the band is ``unknown``, never a confident colour nor a silent 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.rules.expr import Value
from monitor.rules.model import Band, Bands, Measure, Scorecard


@dataclass(frozen=True)
class MeasureResult:
    measure: Measure
    value: float | None
    points: float | None
    """None when the metric has no data for this account."""


@dataclass(frozen=True)
class ScoreResult:
    score: float | None
    """Weighted mean of the points of measures with data, 0-100; None if none has data."""
    band: Band
    coverage: float
    """Share of the total weight whose measures had data (0-1)."""
    measures: tuple[MeasureResult, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(m.measure.metric for m in self.measures if m.points is None)


def measure_points(measure: Measure, value: float) -> float:
    """Points for one value, by the measure's thresholds (see :class:`Measure`)."""
    if measure.direction == "higher_is_better":
        for threshold, points in sorted(measure.steps, key=lambda s: -s[0]):
            if value >= threshold:
                return points
    else:
        for threshold, points in sorted(measure.steps, key=lambda s: s[0]):
            if value <= threshold:
                return points
    return measure.otherwise


def score_account(scorecard: Scorecard, tier: str, env: Mapping[str, Value]) -> ScoreResult:
    results = tuple(_measure(m, env.get(m.metric)) for m in scorecard.measures)
    total_weight = sum(m.weight for m in scorecard.measures)
    scored = [r for r in results if r.points is not None]
    weight_with_data = sum(r.measure.weight for r in scored)
    coverage = weight_with_data / total_weight if total_weight > 0 else 0.0
    if not scored or weight_with_data <= 0:
        return ScoreResult(None, "unknown", coverage, results)
    score = sum(r.measure.weight * (r.points or 0.0) for r in scored) / weight_with_data
    score = round(score, 1)
    if coverage < scorecard.min_coverage:
        return ScoreResult(score, "unknown", coverage, results)
    return ScoreResult(
        score, band_of(score, scorecard.bands_by_tier.get(tier, scorecard.bands)), coverage, results
    )


def band_of(score: float, bands: Bands) -> Band:
    if score >= bands.green:
        return "green"
    if score >= bands.yellow:
        return "yellow"
    return "red"


def _measure(measure: Measure, raw: Value) -> MeasureResult:
    if raw is None or isinstance(raw, bool) or not isinstance(raw, int | float):
        return MeasureResult(measure, None, None)
    value = float(raw)
    return MeasureResult(measure, value, measure_points(measure, value))
