-- Every load into the warehouse, for the method page and the archive manifest.
-- load_id        int        load number
-- file_name      text       file loaded
-- file_size      int        bytes
-- sha256         text       file checksum
-- file_format    text       pg_dump, csv, xlsx or sample
-- loaded_at      timestamp  when (UTC)
-- rows_loaded    int        lines loaded
-- rows_rejected  int        lines set aside as bad
-- rows_overlap   int        lines an earlier load already brought
-- is_sample      bool       the generated sample
SELECT load_id, file_name, file_size, sha256, file_format, loaded_at, rows_loaded,
       rows_rejected, rows_overlap, is_sample
FROM load_registry
ORDER BY load_id
