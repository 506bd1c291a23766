-- PostgreSQL: retail.load_id has no default again once the COPY is done.
ALTER TABLE retail ALTER COLUMN load_id DROP DEFAULT
