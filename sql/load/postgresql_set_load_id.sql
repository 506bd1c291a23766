-- PostgreSQL: the load being written, as the setting lgs.load_id of this transaction only,
-- which the default of retail.load_id reads during the COPY (postgresql_load_id_default.sql).
-- :load_id  int   the load being written
-- load_id   text  the setting's new value
SELECT set_config('lgs.load_id', cast(:load_id AS text), true) AS load_id
