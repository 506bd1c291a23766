"""Loading files into the warehouse: all or nothing per file, registered by sha256.

One file is one transaction: its lines go into ``retail``, the derived tables
are rebuilt and the load is registered, then everything commits together. Any
failure (bad data, a truncated file, Ctrl-C, a killed process) rolls it all
back. A file whose sha256 is already registered is skipped, saying so; lines
that an earlier load already brought (an overlapping extract) are loaded and
counted, and every figure counts them once because exact duplicates are set
aside by the derived tables.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from lgs_reports.errors import LoadError
from lgs_reports.load.checks import Checked, Reject, check_batch
from lgs_reports.load.readers import COLUMNS, InputFile, detect
from lgs_reports.queries import execute, statement_sql
from lgs_reports.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LoadResult:
    file: str
    load_id: int | None  # None when the file was already loaded
    file_format: str
    rows_loaded: int
    rows_rejected: int
    rows_overlap: int
    duration_s: float
    already_loaded_as: int | None = None
    rejects_file: Path | None = None

    def summary(self) -> str:
        if self.already_loaded_as is not None:
            return (
                f"{self.file}: already loaded (load #{self.already_loaded_as}, same sha256); "
                "nothing to do"
            )
        parts = [f"{self.file}: loaded {self.rows_loaded:,} lines as load #{self.load_id}"]
        if self.rows_overlap:
            parts.append(
                f"{self.rows_overlap:,} of them were already in the warehouse "
                "(overlapping extract; counted once)"
            )
        if self.rows_rejected:
            parts.append(f"{self.rows_rejected:,} rejected to {self.rejects_file}")
        return "; ".join(parts) + f" ({self.duration_s:.1f} s)"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


Progress = Callable[[int], None]


def load_file(
    warehouse: Warehouse,
    path: Path,
    *,
    encoding: str = "utf-8",
    max_rejects: int = 0,
    rejects_dir: Path | None = None,
    progress: Callable[[str, int], Progress] | None = None,
) -> LoadResult:
    """Load one file; raises LoadError (warehouse unchanged) when it cannot."""
    started = time.perf_counter()
    source = detect(path, encoding)
    size = path.stat().st_size
    sha = file_sha256(path)
    with warehouse.begin() as conn:
        warehouse.ensure_schema(conn)
        earlier = execute(conn, "load/registered_load", sha256=sha).scalar_one()
    if earlier is not None:
        return LoadResult(path.name, None, source.format, 0, 0, 0, 0.0, already_loaded_as=earlier)
    if max_rejects:
        # the rejects file is written after the commit: its folder must be usable before
        try:
            (rejects_dir or Path(".")).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LoadError(
                f"{rejects_dir}: cannot make the rejects folder ({exc.strerror}); "
                "pass --rejects-dir with a folder that can be written"
            ) from None
    on_read = progress(path.name, size) if progress else None
    rejects: list[Reject] = []

    def checked() -> Iterator[Checked]:
        for batch in source.batches(on_read):
            result = check_batch(batch)
            if result.rejects:
                if max_rejects == 0:
                    raise LoadError(_describe(source, result.rejects[0], first=True))
                rejects.extend(result.rejects)
                if len(rejects) > max_rejects:
                    raise LoadError(
                        f"{path} has more than --max-rejects {max_rejects} bad rows; first: "
                        + _describe(source, rejects[0])
                    )
            yield result

    result = _write(
        warehouse,
        source,
        checked(),
        sha=sha,
        size=size,
        sample=False,
        rejected=lambda: len(rejects),
        started=started,
    )
    if rejects:
        result = dataclasses.replace(
            result, rejects_file=_write_rejects(rejects_dir or Path("."), source, rejects)
        )
    log.info("%s", result.summary())
    return result


def load_frames(
    warehouse: Warehouse, frames: Iterable[pd.DataFrame], *, name: str, fingerprint: str
) -> LoadResult:
    """Load already-typed rows (the generated sample) through the same transaction."""
    started = time.perf_counter()
    batches = (Checked(frame, None, COLUMNS, []) for frame in frames)
    source = InputFile(Path(name), "sample", compressed=False)
    return _write(
        warehouse,
        source,
        batches,
        sha=fingerprint,
        size=0,
        sample=True,
        rejected=lambda: 0,
        started=started,
    )


def _write(
    warehouse: Warehouse,
    source: InputFile,
    batches: Iterable[Checked],
    *,
    sha: str,
    size: int,
    sample: bool,
    rejected: Callable[[], int],
    started: float,
) -> LoadResult:
    with _ctrl_c_between_steps() as interrupted, warehouse.begin() as conn:
        batches = _checking(batches, interrupted)
        warehouse.ensure_schema(conn)
        load_id = execute(conn, "load/next_load_id").scalar_one()
        if not sample:
            _drop_sample(conn)
        had_rows = execute(conn, "load/retail_lines").scalar_one() > 0
        insert = _postgres_copy if warehouse.dialect == "postgresql" else _duckdb_insert
        loaded = insert(warehouse, conn, batches, load_id)
        if loaded == 0:
            raise LoadError(f"{source.path}: no rows to load")
        overlap = _overlap(conn, load_id) if had_rows else 0
        window = execute(conn, "load/load_window", load_id=load_id).one()
        interrupted()
        log.info("rebuilding the derived tables")
        warehouse.rebuild_derived(conn)
        interrupted()
        execute(
            conn,
            "load/register_load",
            load_id=load_id,
            file_name=source.name,
            file_size=size,
            sha256=sha,
            file_format=source.format,
            loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            rows_loaded=loaded,
            rows_rejected=rejected(),
            rows_overlap=overlap,
            first_invoice=window[0],
            last_invoice=window[1],
            duration_s=round(time.perf_counter() - started, 3),
            is_sample=sample,
        )
    return LoadResult(
        source.name,
        load_id,
        source.format,
        loaded,
        rejected(),
        overlap,
        time.perf_counter() - started,
    )


@contextlib.contextmanager
def _ctrl_c_between_steps() -> Iterator[Callable[[], None]]:
    """Hold Ctrl-C until the next step of the load, then raise KeyboardInterrupt there.

    DuckDB catches a SIGINT that arrives while it runs a statement and turns it
    into an error of its own, or loses it; held like this, Ctrl-C always rolls
    the load back with the CLI's "interrupted" line. Yields the check to call.
    """
    pending = False

    def check() -> None:
        if pending:
            raise KeyboardInterrupt

    def note(signum: int, frame: Any) -> None:
        nonlocal pending
        pending = True

    own = threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    previous = signal.signal(signal.SIGINT, note) if own else None
    try:
        yield check
    finally:
        if own:
            signal.signal(signal.SIGINT, previous)
    check()  # pressed during the commit: the load is whole; stop before the next file


def _checking(batches: Iterable[Checked], interrupted: Callable[[], None]) -> Iterator[Checked]:
    for checked in batches:
        interrupted()
        yield checked
    interrupted()


def _drop_sample(conn: Connection) -> None:
    """Real data replaces the generated sample: the two are never mixed in one warehouse."""
    sample_loads = [row[0] for row in execute(conn, "load/sample_loads")]
    if not sample_loads:
        return
    log.warning("the warehouse held the generated sample data; it is replaced by this load")
    for load_id in sample_loads:
        execute(conn, "load/delete_load_lines", load_id=load_id)
        execute(conn, "load/unregister_load", load_id=load_id)


def _overlap(conn: Connection, load_id: int) -> int:
    """Lines of this load that an earlier load already brought (all eight columns equal)."""
    return execute(conn, "load/overlap_lines", load_id=load_id).scalar_one()


DUCKDB_ROW_GROUP = 122_880
# Appending to the scratch file needs little memory; this keeps the load's peak low.
STAGING_MEMORY_LIMIT = "64MB"


def _duckdb_insert(
    warehouse: Warehouse, conn: Connection, batches: Iterable[Checked], load_id: int
) -> int:
    """Stage the batches in a scratch DuckDB file, then move them in with one INSERT.

    DuckDB keeps every row that one transaction appends row by row in memory until the
    commit (about 80 MB per million lines), so the load's own transaction would grow
    with the file. The scratch file commits each batch as it goes, in bounded memory;
    the final INSERT ... SELECT streams from it. The scratch file lives in the system
    temporary folder and is removed whatever happens; the warehouse sees only the move.
    """
    import duckdb

    with tempfile.TemporaryDirectory(prefix="lgs-load-") as folder:
        staged = Path(folder) / "staged.duckdb"
        config = {**warehouse.duckdb_config, "memory_limit": STAGING_MEMORY_LIMIT}
        total = _stage(duckdb.connect(str(staged), config=config), batches)
        if total == 0:
            return 0
        raw = warehouse.raw_connection(conn)
        execute(raw, "load/duckdb_attach_staged", path=str(staged))
        try:
            execute(raw, "load/duckdb_move_staged", load_id=load_id)
        finally:
            with contextlib.suppress(Exception):  # the INSERT's error is the one to report
                execute(raw, "load/duckdb_detach_staged")
    return total


def _stage(staging: Any, batches: Iterable[Checked]) -> int:
    """Append the batches to a table ``retail`` of the scratch database; rows appended."""
    total = 0
    pending: list[pd.DataFrame] = []
    created = False

    def flush() -> None:
        nonlocal created
        staging.register("incoming_batch", pd.concat(pending, ignore_index=True))
        pending.clear()
        if not created:  # the table takes the checked rows' column types
            execute(staging, "load/duckdb_stage_create")
            created = True
        execute(staging, "load/duckdb_stage_batch")
        staging.unregister("incoming_batch")

    try:
        for checked in batches:
            if checked.rows.empty:
                continue
            pending.append(checked.rows)
            total += len(checked.rows)
            # whole row groups: DuckDB compresses and writes each as it commits
            if sum(len(f) for f in pending) >= DUCKDB_ROW_GROUP:
                flush()
        if pending:
            flush()
    finally:
        staging.close()
    return total


class _CopyStream(io.TextIOBase):
    """A file-like object that COPY reads from, filled batch by batch (bounded memory).

    An exception raised while reading the batches (a bad row, a truncated file,
    Ctrl-C) is kept in ``error``: psycopg2 replaces it by its own QueryCanceled.
    """

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._buffer = ""
        self._at = 0  # what was read of the buffer (no copying of the rest at every read)
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        try:
            while size < 0 or len(self._buffer) - self._at < size:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer = self._buffer[self._at :] + chunk
                self._at = 0
        except BaseException as exc:
            self.error = exc
            raise
        end = len(self._buffer) if size < 0 else self._at + size
        out = self._buffer[self._at : end]
        self._at = min(end, len(self._buffer))
        return out

    readline = read


def _postgres_copy(
    warehouse: Warehouse, conn: Connection, batches: Iterable[Checked], load_id: int
) -> int:
    """COPY the batches in one stream; pg_dump text goes through as it came."""
    stream = iter(batches)
    first = next(stream, None)
    if first is None:
        return 0
    total = 0

    # a pg_dump's own COPY text goes through as it came (its fields put in the table's
    # column order if the dump has another); typed rows go as CSV
    dump = first.copy_text is not None
    order = None if not dump or first.copy_columns == COLUMNS else first.copy_columns

    def chunks() -> Iterator[str]:
        nonlocal total
        for checked in itertools.chain([first], stream):
            total += len(checked.rows)
            if checked.copy_text is None:
                yield _copy_csv(checked.rows)
            elif order is None:
                yield checked.copy_text
            else:
                yield _in_table_order(checked.copy_text, order)

    # The load id comes from the column default, which reads it from a setting of this
    # transaction, so that the dump's own lines can be streamed to the server as they came.
    execute(conn, "load/postgresql_set_load_id", load_id=load_id)
    execute(conn, "load/postgresql_load_id_default")
    copy = statement_sql("load/postgresql_copy_dump" if dump else "load/postgresql_copy_csv")
    raw = warehouse.raw_connection(conn)
    source = _CopyStream(chunks())
    with raw.cursor() as cursor:
        try:
            cursor.copy_expert(copy, source, size=1 << 20)
        except Exception:
            if source.error is not None:
                raise source.error from None  # the LoadError, not psycopg2's QueryCanceled
            raise
    execute(conn, "load/postgresql_drop_load_id_default")
    return total


def _in_table_order(copy_text: str, columns: tuple[str, ...]) -> str:
    """COPY text whose fields follow a dump's own column order, in the table's order.

    A field of COPY's text format never holds a tab or a newline (both are escaped), so
    records and fields split exactly, and each field goes through unchanged.
    """
    order = [columns.index(c) for c in COLUMNS]

    def reordered(record: str) -> str:
        fields = record.split("\t")
        return "\t".join([fields[i] for i in order]) if record else record

    return "\n".join(map(reordered, copy_text.split("\n")))


def _copy_csv(rows: pd.DataFrame) -> str:
    """Rows in COPY's CSV format: pandas' C writer quotes what needs it, so no field is
    escaped in Python. An unquoted empty field is NULL; validation turns every empty
    text into NULL, so an empty string never needs telling apart. Prices are already
    rounded to 3 decimals: their shortest repr is exact for numeric(12,3)."""
    out = io.StringIO()
    rows.to_csv(
        out,
        header=False,
        index=False,
        date_format="%Y-%m-%d %H:%M:%S.%f",
        lineterminator="\n",
    )
    return out.getvalue()


def _describe(source: InputFile, reject: Reject, first: bool = False) -> str:
    column_no = COLUMNS.index(reject.column) + 1
    where = f"{source.path}"
    if source.format == "xlsx":
        where += f" row {reject.line}"
    else:
        where += f" line {reject.line}"
    value = f"{reject.value!r} is " if reject.reason != "missing" else ""
    text_ = f"{where}, column {column_no} ({reject.column}): {value}{reject.reason}"
    if first:
        text_ += (
            "; fix the file, or pass --max-rejects N to load the good rows and set bad ones aside"
        )
    return text_


def _write_rejects(folder: Path, source: InputFile, rejects: list[Reject]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{source.path.name}.rejects.csv"
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "column", "reason", *COLUMNS])
        for r in rejects:
            writer.writerow([r.line, r.column, _reason(r), *r.record])
    return target


def _reason(reject: Reject) -> str:
    return reject.reason if reject.reason == "missing" else f"{reject.value!r}: {reject.reason}"
