-- PostgreSQL, the rebuild of the derived tables: de-duplicating a million lines is one
-- hash aggregate when it fits in memory; with the default 4MB PostgreSQL sorts on disk
-- and takes twice as long. For this transaction only.
SET LOCAL work_mem = '256MB'
