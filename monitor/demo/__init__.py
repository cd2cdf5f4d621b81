"""A seeded synthetic portfolio: the data behind ``csmon demo``, the tests and the benchmark.

~500 accounts with power-law ARR, their users, two years of contract history with real
outcomes, and 90 days of Segment-spec product usage in which the generator plants the
patterns csmon should find: decaying accounts that will churn, help-page spikes,
dormant accounts, reactivations, onboarding, growth. The ground truth stays in the model
(:attr:`Account.archetype`, :attr:`Account.fate`) so tests and backtests can score csmon.

Layers: :mod:`.model` (pure, seeded: accounts, users, contracts, behaviour) →
:mod:`.events` (event lines, streamed a day at a time) → :mod:`.writer` (files).
"""

from monitor.demo.behaviour import Archetype, Behaviour, Fate
from monitor.demo.contracts import Contract
from monitor.demo.model import Account, DemoParams, Portfolio, User, build_portfolio
from monitor.demo.writer import FILE_NAMES, DemoFiles, generate, write_events, write_portfolio

__all__ = [
    "FILE_NAMES",
    "Account",
    "Archetype",
    "Behaviour",
    "Contract",
    "DemoFiles",
    "DemoParams",
    "Fate",
    "Portfolio",
    "User",
    "build_portfolio",
    "generate",
    "write_events",
    "write_portfolio",
]
