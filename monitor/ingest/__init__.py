"""Getting data in: CRM records (accounts, users, contracts) and Segment-spec events.

Every import is an upsert keyed by stable ids, so re-importing a file changes nothing.
Bad rows never stop an import: each is kept in ``import_rejects`` with its line number
and reason, and the good rows are all written.
"""
