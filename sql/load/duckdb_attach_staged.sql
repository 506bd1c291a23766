-- DuckDB: open the load's scratch database, read only, as `staged` beside the warehouse.
-- :path  text  the scratch database file (in the system's temporary folder)
ATTACH :path AS staged (READ_ONLY)
