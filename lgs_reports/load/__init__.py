"""Loading extracts into the warehouse: read the file, check its records, load it whole.

The first step of the flow (load → warehouse → sql → analyses → figures → render →
archive → mail), in three modules:

- `readers`: recognise a file's format (pg_dump, CSV, XLSX) and stream its records
  as parsed blocks that know their source lines;
- `checks`: check a block's records (types, required fields), naming line and column;
- `loader`: one file, one transaction: the lines into ``retail``, the derived
  tables rebuilt, the load registered (its statements are in ``sql/load/``).
"""

from lgs_reports.load.loader import LoadResult, load_file, load_frames

__all__ = ["LoadResult", "load_file", "load_frames"]
