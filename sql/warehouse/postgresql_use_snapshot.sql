-- PostgreSQL: a brief's second connection sees exactly what its first one sees.
-- :snapshot  text  the identifier postgresql_export_snapshot.sql gave
SET TRANSACTION SNAPSHOT :snapshot
