"""Evaluation: metrics -> tiers -> health scores -> alert verdicts, for every account."""

from monitor.evaluation.judge import AccountResult
from monitor.evaluation.run import Evaluation, evaluate_accounts, evaluate_env
from monitor.evaluation.verdicts import Verdict

__all__ = ["AccountResult", "Evaluation", "Verdict", "evaluate_accounts", "evaluate_env"]
