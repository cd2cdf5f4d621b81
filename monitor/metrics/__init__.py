"""Metrics: named numbers per account at an evaluation instant T, computed set-wise in SQL.

Time
    Instants are UTC (a naive datetime is taken as UTC). ``T_day`` is the UTC day of
    T as an epoch-day number. A window of W days with offset O covers the days
    ``[T_day - O - W + 1, T_day - O]``: ``window = "14d"`` is today and the 13 days
    before, ``offset = "7d"`` moves it a week back. Days before ``T_day`` are read
    from the daily rollups; ``T_day`` itself from the raw events **up to and
    including T**, so a metric counts exactly the events up to its instant:
    evaluating twice at the same T gives the same result even if later events arrived
    in between, and an evaluation ``--at`` a past instant is exact. Once the raw
    events of an account's day are gone (``ingest.raw_retention_days``), that day's
    rollup is used whole. Only ``track`` and ``page`` events count; their names are the track event
    name, or ``page:/<first path segment>`` (e.g. ``page:/help``).

No data
    Usage metrics (everything but ``attribute`` and ``expr``) are **null for an account
    with no track/page event at or before T**: nobody can see such an account, so it
    never gets a silent 0. For an account with data, an empty window gives 0 (counts,
    active users, distinct events, property sum and count) or null (average of no
    values).

Kinds
    ``count``
        Occurrences of the listed events in the window.
    ``active_users``
        Distinct users (``userId``, else ``anonymousId``) with any track/page event
        in the window.
    ``distinct``
        How many of the listed events occurred at least once in the window.
    ``days_since``
        ``T_day`` minus the last day, up to T, with one of the listed events (any
        track/page event when none are listed); null when there never was one.
    ``property``
        ``sum``, ``avg`` (sum / number of values) or ``count`` of a numeric event
        property (e.g. the NPS ``score``) over the window; values that are not
        numbers (text, true/false) are skipped. Only the properties listed in
        ``ingest.rollup_properties`` are kept per day, so only those can be used.
    ``active_weeks``
        Week k (k = 0 .. max_weeks - 1) is the days ``[T_day - 7k - 6, T_day - 7k]``;
        the value is the number of consecutive weeks, from week 0 back, with at least
        ``min_events`` of the listed events (any track/page event when none listed).
        Weeks are rolling 7-day blocks ending with T's day, not calendar weeks.
    ``attribute``
        A built-in account attribute (see :mod:`monitor.metrics.accounts`).
    ``expr``
        An expression over the built-in attributes and the metrics defined before it.
        If it fails on one account's data (text where a number is expected), that
        account's value is null and a warning is logged; the others are computed.
    ``change``
        Of a window metric M (count, active_users, distinct, property):
        ``(M - M_prev) / M_prev``, where ``M_prev`` is M over the window just before
        (the offset increased by the window length); null when ``M_prev`` is 0 or
        null. -0.5 means halved.
    ``baseline_ratio``
        Of a window metric M over W days: M divided by the account's usual level,
        the same aggregate over the ``baseline_days`` just before M's window scaled to
        W days (``baseline x W / baseline_days``); null when the baseline is 0 or null.
        3.0 means three times the usual level. For an average the baseline is the
        average over the baseline days (no scaling). For active users and distinct
        events the scaled baseline is an approximation: distinct counts do not add
        up over days, so a long baseline reads higher than W-day windows would.

Performance
    The database does the work: per family (event counts/breadth/last seen/active
    weeks; active users; properties) one SQL query computes all its metrics for all
    accounts and all requested instants, scanning only the days the widest window
    needs through the ``(account_id, day)`` indexes. Python only loops over the
    aggregated rows (one per account). The SQL is built with SQLAlchemy Core, so it
    runs on SQLite, PostgreSQL and other dialects.

    The evaluation adds a cache (:class:`DayCache`): values at day ends are kept in
    the store, and any other instant is computed as the day end before it plus its
    own day (:mod:`monitor.metrics.own_day`), so after the first evaluation of a
    day the next ones query one day of raw events.
"""

from monitor.metrics.accounts import (
    BUILTIN_ATTRIBUTES,
    AccountFacts,
    is_builtin_attribute,
    load_accounts,
)
from monitor.metrics.compute import (
    AccountMetrics,
    MetricValues,
    compute_metrics,
    compute_metrics_at,
    metric_values,
)
from monitor.metrics.day_cache import DayCache

__all__ = [
    "BUILTIN_ATTRIBUTES",
    "AccountFacts",
    "AccountMetrics",
    "DayCache",
    "MetricValues",
    "compute_metrics",
    "compute_metrics_at",
    "is_builtin_attribute",
    "load_accounts",
    "metric_values",
]
