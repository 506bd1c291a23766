-- PostgreSQL, a load, before it rebuilds the derived tables: wait for the briefs still
-- reading them (postgresql_lock_shared.sql), until the load's transaction ends.
-- :key    int   the advisory lock of loads and briefs (warehouse.LOCK_KEY)
-- locked  text  nothing (void): the lock is held
SELECT pg_advisory_xact_lock(:key) AS locked
