-- PostgreSQL: the snapshot of a brief's first connection, which its second one adopts.
-- snapshot  text  the snapshot's identifier
SELECT pg_export_snapshot() AS snapshot
