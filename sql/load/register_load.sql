-- Register a load, last in its transaction: the file, what it brought and how long it took.
-- :load_id        int        the load's number (next_load_id.sql)
-- :file_name      text       the file's name, without its folder
-- :file_size      int        bytes (0 for the generated sample)
-- :sha256         text       the file's sha256 (the sample's fingerprint)
-- :file_format    text       pg_dump, csv, xlsx or sample
-- :loaded_at      timestamp  when, UTC, to the second
-- :rows_loaded    int        lines written to retail
-- :rows_rejected  int        bad rows set aside (--max-rejects)
-- :rows_overlap   int        lines an earlier load already brought (overlap_lines.sql)
-- :first_invoice  timestamp  earliest invoice date of the load
-- :last_invoice   timestamp  latest invoice date of the load
-- :duration_s     float      seconds the load took until now
-- :is_sample      bool       the generated sample
INSERT INTO load_registry (
    load_id, file_name, file_size, sha256, file_format, loaded_at, rows_loaded, rows_rejected,
    rows_overlap, first_invoice, last_invoice, duration_s, is_sample
)
VALUES (
    :load_id, :file_name, :file_size, :sha256, :file_format, :loaded_at, :rows_loaded,
    :rows_rejected, :rows_overlap, :first_invoice, :last_invoice, :duration_s, :is_sample
)
