-- The DuckDB reference, step 2: append a Segment JSONL file ($path) to the table `events`,
-- with csmon's import semantics (monitor/ingest/segment.py and events.py):
--   * a line counts when its type is track, page, identify or group and it has a
--     messageId, a timestamp (else originalTimestamp) and a user (userId, else anonymousId);
--     a track call also needs an event name;
--   * name: the track event name, "page:/" + the first path segment for a page call
--     (properties.path, else context.page.path), else the type;
--   * account: context.groupId (a group call: its groupId; an identify call: also
--     traits.account_id, traits.company.id, traits.groupId), else the account the latest
--     earlier group/identify call of the same user named (file order, across files),
--     else the user's account in the CRM's users file; no account: rejected;
--   * messageId deduplicates: the first line (in file order) wins, also against the
--     rows of earlier files;
--   * score: properties.score when it is a JSON number (text, true/false are skipped).
-- Statements are separated by ";" at a line end; $path is the only parameter.

CREATE TABLE IF NOT EXISTS events (
    line BIGINT,            -- position in the input, across appended files
    message_id VARCHAR,
    account_id VARCHAR,
    user_id VARCHAR,
    type VARCHAR,
    name VARCHAR,
    ts_ms BIGINT,
    day INTEGER,            -- UTC epoch day of ts_ms
    score DOUBLE
);

CREATE OR REPLACE TEMP TABLE batch AS
SELECT
    (SELECT coalesce(max(line), 0) FROM events) + row_number() OVER () AS line,
    messageId AS message_id,
    type,
    coalesce(userId, anonymousId) AS user_id,
    epoch_ms(CAST(coalesce("timestamp", originalTimestamp) AS TIMESTAMPTZ)) AS ts_ms,
    CASE type
        WHEN 'track' THEN event
        WHEN 'page' THEN 'page:/' || split_part(split_part(split_part(
            ltrim(coalesce(properties.path, context.page.path, ''), '/'), '?', 1), '#', 1), '/', 1)
        ELSE type
    END AS name,
    CASE type
        WHEN 'group' THEN groupId
        WHEN 'identify' THEN coalesce(
            context.groupId, traits.account_id, traits.company.id, traits.groupId)
        ELSE context.groupId
    END AS group_id,
    CASE WHEN json_type(properties.score) IN ('BIGINT', 'UBIGINT', 'DOUBLE')
        THEN CAST(properties.score AS DOUBLE) END AS score
FROM read_ndjson($path, columns = {
    'timestamp': 'VARCHAR', 'originalTimestamp': 'VARCHAR', 'messageId': 'VARCHAR',
    'type': 'VARCHAR', 'event': 'VARCHAR', 'userId': 'VARCHAR', 'anonymousId': 'VARCHAR',
    'groupId': 'VARCHAR',
    'context': 'STRUCT(groupId VARCHAR, page STRUCT(path VARCHAR))',
    'traits': 'STRUCT(account_id VARCHAR, company STRUCT(id VARCHAR), groupId VARCHAR)',
    'properties': 'STRUCT(path VARCHAR, score JSON)'
})
WHERE type IN ('track', 'page', 'identify', 'group')
    AND coalesce(messageId, '') <> ''
    AND coalesce("timestamp", originalTimestamp) IS NOT NULL
    AND coalesce(userId, anonymousId, '') <> ''
    AND (type <> 'track' OR coalesce(event, '') <> '');

INSERT INTO events
WITH mapped AS (
    -- who said which user belongs to which account, and where in the input
    SELECT user_id, line, account_id FROM events WHERE type IN ('group', 'identify')
    UNION ALL
    SELECT user_id, line, group_id FROM batch
    WHERE type IN ('group', 'identify') AND group_id IS NOT NULL
),
resolved AS (
    SELECT line, message_id, group_id AS account_id, user_id, type, name, ts_ms, score
    FROM batch WHERE group_id IS NOT NULL
    UNION ALL
    SELECT b.line, b.message_id, coalesce(m.account_id, u.account_id), b.user_id, b.type,
        b.name, b.ts_ms, b.score
    FROM (SELECT * FROM batch WHERE group_id IS NULL) b
    ASOF LEFT JOIN mapped m ON b.user_id = m.user_id AND b.line >= m.line
    LEFT JOIN crm_users u ON u.user_id = b.user_id
)
SELECT line, message_id, account_id, user_id, type, name, ts_ms,
    CAST(ts_ms // 86400000 AS INTEGER) AS day, score
FROM resolved r
WHERE account_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = r.message_id)
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY line) = 1;

DROP TABLE batch;
