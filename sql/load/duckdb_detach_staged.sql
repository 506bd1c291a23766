-- DuckDB: close the scratch database once its rows are moved (duckdb_move_staged.sql).
DETACH staged
