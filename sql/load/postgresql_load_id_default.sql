-- PostgreSQL: every line the COPY writes takes the load id of this transaction
-- (postgresql_set_load_id.sql) as the default of retail.load_id, so that a dump's own
-- COPY text is streamed to the server as it came, without a load_id field added to each
-- line. Inside the load's transaction, like the COPY: dropped before the commit
-- (postgresql_drop_load_id_default.sql) and undone by a rollback.
ALTER TABLE retail ALTER COLUMN load_id SET DEFAULT cast(current_setting('lgs.load_id') AS integer)
