-- PostgreSQL, a brief, before its snapshot is taken: wait for a load that is rebuilding
-- the derived tables, and make the next load wait for this brief, until its transaction
-- ends (a rebuilt table is not MVCC-safe: a snapshot older than it would see it empty).
-- :key    int   the advisory lock of loads and briefs (warehouse.LOCK_KEY)
-- locked  text  nothing (void): the lock is held
SELECT pg_advisory_xact_lock_shared(:key) AS locked
