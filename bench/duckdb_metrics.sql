-- The DuckDB reference, step 3: every metric of rules/metrics.toml for every CRM account
-- at the instant $t_ms (epoch ms; $t_day its UTC epoch day, $t_date its UTC date), from
-- the raw events alone (no rollups), with the semantics of monitor/metrics/__init__.py:
--   * a window of W days covers the days [t_day - W + 1, t_day]; t_day itself counts
--     only up to the instant: here simply every event with ts_ms <= $t_ms;
--   * only track and page events count; usage metrics are NULL for an account with no
--     such event at or before the instant, 0 for an empty window otherwise;
--   * change = (M - M_prev) / M_prev over the window just before, NULL when M_prev = 0;
--   * baseline_ratio = M / (baseline x W / baseline_days), NULL when the baseline is 0;
--   * active_weeks = consecutive 7-day blocks, from the instant's day back, each with at
--     least one of the events (min_events = 1), at most max_weeks (12);
--   * ratio(a, b) = a / b, NULL when b is 0 or NULL; attributes as in
--     monitor/metrics/accounts.py (renewal date: the latest end of an active contract,
--     else the CRM field).
-- One column per metric, named like it; `back` is how many days before t_day an event is.

WITH usage AS (
    SELECT account_id, user_id, name, score, day, $t_day - day AS back
    FROM events
    WHERE type IN ('track', 'page') AND ts_ms <= $t_ms
),
per_account AS (
    SELECT
        account_id,
        count(*) FILTER (name = 'Signed In' AND back < 14) AS logins_14d,
        count(*) FILTER (name = 'Signed In' AND back BETWEEN 14 AND 27) AS logins_prev_14d,
        max(day) FILTER (name = 'Signed In') AS last_login_day,
        count(DISTINCT user_id) FILTER (back < 30) AS active_users_30d,
        count(*) FILTER (core AND back < 30) AS core_actions_30d,
        count(*) FILTER (core AND back BETWEEN 30 AND 59) AS core_actions_prev_30d,
        count(DISTINCT name) FILTER (core AND back < 30) AS core_features_used_30d,
        bit_or(1 << (back // 7)) FILTER (core AND back < 84) AS core_weeks,
        count(*) FILTER (name = 'page:/help' AND back < 14) AS help_views_14d,
        count(*) FILTER (name = 'page:/help' AND back BETWEEN 14 AND 97) AS help_views_base,
        count(*) FILTER (name = 'Support Ticket Opened' AND back < 30) AS tickets_30d,
        count(*) FILTER (name = 'Support Ticket Opened' AND back BETWEEN 30 AND 119)
            AS tickets_base,
        avg(score) FILTER (name = 'NPS Submitted' AND back < 90) AS nps_avg_90d,
        max(day) AS last_day,
        count(*) FILTER (name = 'Signed In' AND back < 7) AS logins_7d,
        count(*) FILTER (name = 'Signed In' AND back BETWEEN 7 AND 34) AS logins_before_7d
    FROM (
        SELECT *, name IN ('Report Created', 'Dashboard Shared', 'Report Exported',
                           'Integration Connected') AS core
        FROM usage
    )
    GROUP BY account_id
),
renewals AS (
    SELECT account_id, max("end") AS renewal_end
    FROM crm_contracts WHERE lower(status) = 'active' GROUP BY account_id
)
SELECT
    a.account_id,
    m.logins_14d,
    CASE WHEN coalesce(a.seats, 0) <> 0 THEN m.logins_14d / a.seats END
        AS logins_per_seat_14d,
    CASE WHEN m.logins_prev_14d <> 0
        THEN (m.logins_14d - m.logins_prev_14d) / m.logins_prev_14d END AS logins_change_14d,
    $t_day - m.last_login_day AS days_since_login,
    m.active_users_30d,
    CASE WHEN coalesce(a.seats, 0) <> 0 THEN m.active_users_30d / a.seats END
        AS seat_utilization,
    m.core_actions_30d,
    CASE WHEN m.core_actions_prev_30d <> 0
        THEN (m.core_actions_30d - m.core_actions_prev_30d) / m.core_actions_prev_30d END
        AS core_actions_change_30d,
    m.core_features_used_30d,
    -- bit k of core_weeks: week k had a core event; the trailing ones are the
    -- consecutive active weeks (x & ~(x + 1) keeps exactly those bits)
    CASE WHEN m.account_id IS NOT NULL THEN bit_count(
        coalesce(m.core_weeks, 0) & ~(coalesce(m.core_weeks, 0) + 1)) END AS active_weeks,
    m.help_views_14d,
    CASE WHEN m.help_views_base <> 0
        THEN m.help_views_14d / (m.help_views_base * 14 / 84) END AS help_views_vs_baseline,
    m.tickets_30d,
    CASE WHEN m.tickets_base <> 0
        THEN m.tickets_30d / (m.tickets_base * 30 / 90) END AS tickets_vs_baseline,
    m.nps_avg_90d,
    $t_day - m.last_day AS days_since_activity,
    m.logins_7d,
    m.logins_before_7d,
    coalesce(($t_date - a.created_at) < 45, false) AS onboarding,
    coalesce(r.renewal_end, a.renewal_date) - $t_date AS days_to_renewal,
    coalesce(a.arr, 0.0) AS arr
FROM crm_accounts a
LEFT JOIN per_account m ON m.account_id = a.account_id
LEFT JOIN renewals r ON r.account_id = a.account_id
ORDER BY a.account_id
