"""How an account's band moved: compared with its health snapshot a day or more ago."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, select

from monitor.alerting.lifecycle import BAND_RANK
from monitor.store.schema import health_snapshots
from monitor.timeutil import to_ms

TREND_GAP = timedelta(days=1)
"""The previous band is the latest snapshot at least this much older than the
evaluation: hourly evaluations would otherwise compare an account with itself."""
_IDS_PER_QUERY = 500


def previous_bands(conn: Connection, account_ids: Collection[str], at: datetime) -> dict[str, str]:
    """Each account's band in its latest snapshot taken ``TREND_GAP`` or more before
    ``at``; accounts without one are left out. One query per 500 accounts."""
    cutoff = to_ms(at - TREND_GAP)
    bands: dict[str, str] = {}
    ids = sorted(account_ids)
    h = health_snapshots
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start : start + _IDS_PER_QUERY]
        latest = (
            select(h.c.account_id, func.max(h.c.evaluated_at_ms).label("at_ms"))
            .where(h.c.evaluated_at_ms <= cutoff, h.c.account_id.in_(chunk))
            .group_by(h.c.account_id)
            .subquery()
        )
        query = select(h.c.account_id, h.c.band).join(
            latest,
            and_(h.c.account_id == latest.c.account_id, h.c.evaluated_at_ms == latest.c.at_ms),
        )
        bands.update((account_id, band) for account_id, band in conn.execute(query))
    return bands


def band_trend(previous: str | None, current: str) -> str:
    """``"▼ from green"`` when the band got worse, ``"▲ from red"`` when it got better;
    empty when it did not move or either band is unknown."""
    if previous not in BAND_RANK or current not in BAND_RANK or previous == current:
        return ""
    arrow = "▼" if BAND_RANK[current] < BAND_RANK[previous] else "▲"
    return f"{arrow} from {previous}"
