"""Pure scoring logic: tiers and the health scorecard. No I/O, easy to test."""

from monitor.scoring.scorecard import MeasureResult, ScoreResult, score_account
from monitor.scoring.tiers import TierResult, assign_tiers

__all__ = ["MeasureResult", "ScoreResult", "TierResult", "assign_tiers", "score_account"]
