"""The warehouse: any SQLAlchemy URL; PostgreSQL in production, DuckDB embedded by default.

This module owns connections and the schema. The tables are created by
``sql/schema/tables.sql``; what the reports read (``lines``, ``invoices``,
``daily_quality``) is rebuilt by ``sql/schema/derived_lines.sql``, the corrections
pairing and ``sql/schema/derived_invoices.sql`` inside each load's
transaction, so a failed load leaves everything as it was. Connection failures
become one `WarehouseError` line naming host and database with the password masked.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from lgs_reports.config import (
    DatabaseSettings,
    Settings,
    mask_secrets,
    mask_url,
    parse_database_url,
)
from lgs_reports.corrections import pair_corrections
from lgs_reports.errors import BusyError, WarehouseError
from lgs_reports.queries import Reader, execute, execute_script, run_query
from lgs_reports.resources import resource_dir

log = logging.getLogger(__name__)

DUCKDB_MEMORY_LIMIT = DatabaseSettings.duckdb_memory_limit
# PostgreSQL advisory lock between loads (exclusive, while they rebuild the derived
# tables) and briefs (shared, while they read them); any constant of our own will do.
LOCK_KEY = 0x4C47535F52505453  # "LGS_RPTS"


class Warehouse:
    """A configured warehouse. Cheap to create; connects on first use."""

    def __init__(self, url: str, *, duckdb_memory_limit: str = DUCKDB_MEMORY_LIMIT) -> None:
        self.url = url
        self.duckdb_memory_limit = duckdb_memory_limit
        self.safe_url = mask_url(url)
        parsed = parse_database_url(url, "database URL")  # ConfigError (exit 2) if it cannot be
        self.dialect = parsed.get_backend_name()
        if self.dialect == "postgresql" and parsed.get_driver_name() != "psycopg2":
            # psycopg2 is the driver we ship and test (SQLAlchemy 2.1 defaults to psycopg 3);
            # this also turns postgres:// into a URL SQLAlchemy accepts
            self.url = parsed.set(drivername="postgresql+psycopg2").render_as_string(
                hide_password=False
            )
        self._password = parsed.password
        self._where = _describe(parsed)
        if self.dialect == "duckdb" and parsed.database not in (None, "", ":memory:"):
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(
                    f"warehouse {self._where}: cannot create its folder {folder} "
                    f"({exc.strerror}); check [database] url / LGS_DATABASE_URL"
                ) from None
        self._engine: Engine | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Warehouse:
        return cls(settings.database_url, duckdb_memory_limit=settings.database.duckdb_memory_limit)

    @property
    def duckdb_config(self) -> dict[str, Any]:
        """DuckDB's settings for every database this process opens (warehouse, scratch)."""
        # Bounded memory: DuckDB spills to disk beyond the limit instead of taking most
        # of the machine (its default is 80% of RAM).
        return {"memory_limit": self.duckdb_memory_limit, "preserve_insertion_order": False}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                if self.dialect == "postgresql":
                    self._engine = create_engine(
                        self.url, pool_pre_ping=True, connect_args={"connect_timeout": 10}
                    )
                else:
                    self._engine = create_engine(
                        self.url, connect_args={"config": self.duckdb_config}
                    )
            except (NoSuchModuleError, ImportError) as exc:
                raise WarehouseError(
                    f"cannot use {self.safe_url}: driver missing ({exc}); reinstall lgs-reports"
                ) from None
        return self._engine

    def failure(self, exc: BaseException) -> WarehouseError | BusyError:
        """The one-line error for a database failure, password masked."""
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        first = detail[0] if detail else type(exc).__name__
        holder = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", first)
        if holder:
            # DuckDB: one process at a time may write the file (a load, a brief)
            return BusyError(
                f"warehouse {self._where} is in use by another process (PID {holder.group(1)}); "
                "try again when it has finished"
            )
        detail = mask_secrets(first, [str(self._password)] if self._password else [])
        return WarehouseError(
            f"warehouse {self._where} unavailable: {detail}; "
            "check [database] url / LGS_DATABASE_URL"
        )

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reading; database errors become WarehouseError."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connect_error(exc):
                raise self.failure(exc) from None
            raise

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on any exception."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connect_error(exc):
                raise self.failure(exc) from None
            raise

    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        """Read-only access to one consistent view of the warehouse, for a brief's queries.

        PostgreSQL: two connections, so two queries run at once on the server's cores.
        Both are REPEATABLE READ transactions; the second adopts the first's exported
        snapshot (as ``pg_dump --jobs`` does), so both see exactly the same committed
        data whatever loads meanwhile. DuckDB: one connection; it parallelises each query
        itself, and one process at a time holds the file.
        """
        with contextlib.ExitStack() as stack:
            if self.dialect != "postgresql":
                conn = stack.enter_context(self.connect())
                reader = Reader([conn])
            else:
                first = _read_only(stack.enter_context(self.connect()))
                # Before the snapshot is taken: wait for a load that is rebuilding the
                # tables, and make the next one wait for this brief (a rebuilt table is
                # not MVCC-safe: a snapshot older than it would see it empty). An advisory
                # lock, not table locks: a load queued for a table would block the second
                # connection's reads behind it, and the brief would wait for itself.
                execute(first, "warehouse/postgresql_lock_shared", key=LOCK_KEY)
                snapshot = execute(first, "warehouse/postgresql_export_snapshot").scalar_one()
                second = _read_only(stack.enter_context(self.connect()))
                execute(second, "warehouse/postgresql_use_snapshot", snapshot=snapshot)
                for conn in (first, second):
                    execute(conn, "warehouse/postgresql_no_jit")
                reader = Reader([first, second])
            stack.callback(reader.close)
            yield reader  # database errors are mapped by connect() as they pass through

    def ensure_schema(self, conn: Connection) -> None:
        execute_script(conn, "schema/tables")

    def rebuild_derived(self, conn: Connection) -> None:
        if self.dialect == "postgresql":
            # wait for briefs still reading the tables about to be replaced (see reader())
            execute(conn, "warehouse/postgresql_lock_exclusive", key=LOCK_KEY)
            execute(conn, "warehouse/postgresql_rebuild_memory")
            execute(conn, "warehouse/postgresql_no_jit")
        execute_script(conn, "schema/derived_lines")
        self._pair_corrections(conn)
        execute_script(conn, "schema/derived_invoices")

    def _pair_corrections(self, conn: Connection) -> None:
        """Fill ``correction_pairs`` with the pairs `pair_corrections` picks from the candidates."""
        cancels, placed = pair_corrections(run_query(conn, "correction_candidates"))
        if cancels:
            execute(conn, "warehouse/insert_correction_pairs", cancels=cancels, placed=placed)

    def upgrade_derived(self) -> bool:
        """Rebuild derived tables that an earlier version of this program built; True if it did.

        A newer program may read columns an older one did not build: rather than fail,
        its first brief rebuilds them from ``retail`` (what a load would do).
        """
        wanted = derived_version()
        try:
            with self.connect() as conn:
                if not self.has_table(conn, "invoices"):
                    return False
                built = (
                    execute(conn, "warehouse/derived_version").scalar_one()
                    if self.has_table(conn, "derived_version")
                    else None
                )
            if built is not None and built >= wanted:
                return False
            log.warning(
                "the derived tables were built by an earlier version of lgs-reports "
                "(version %s, now %s): rebuilding them from the raw lines",
                built or 1,
                wanted,
            )
            with self.begin() as conn:
                self.rebuild_derived(conn)
            return True
        except SQLAlchemyError as exc:
            raise self.failure(exc) from None

    def has_table(self, conn: Connection, name: str) -> bool:
        return bool(execute(conn, "warehouse/table_exists", name=name).scalar_one())

    def is_empty(self) -> bool:
        """True when no report can be built: no derived tables or no invoices yet."""
        try:
            with self.connect() as conn:
                if not self.has_table(conn, "invoices"):
                    return True
                return execute(conn, "warehouse/invoice_count").scalar_one() == 0
        except SQLAlchemyError as exc:
            raise self.failure(exc) from None

    def raw_connection(self, conn: Connection) -> Any:
        """The driver's own connection under a SQLAlchemy one (COPY, DataFrame registration)."""
        return conn.connection.dbapi_connection

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _read_only(conn: Connection) -> Connection:
    """A PostgreSQL connection of a brief: a REPEATABLE READ transaction that only reads."""
    conn = conn.execution_options(isolation_level="REPEATABLE READ")
    execute(conn, "warehouse/postgresql_read_only")
    return conn


def _describe(url: Any) -> str:
    if url.get_backend_name() == "duckdb":
        return f"duckdb file {url.database or ':memory:'}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"postgresql database {url.database!r} on {host}{port}"


def derived_version() -> int:
    """The version that sql/schema/derived_invoices.sql builds (its last statement says)."""
    source = (resource_dir("sql") / "schema" / "derived_invoices.sql").read_text(encoding="utf-8")
    match = re.search(r"CREATE TABLE derived_version AS SELECT (\d+) AS version", source)
    if match is None:
        raise RuntimeError("sql/schema/derived_invoices.sql does not create derived_version")
    return int(match.group(1))


def _is_connect_error(exc: DBAPIError) -> bool:
    text_ = str(exc.orig if exc.orig is not None else exc).lower()
    if 'database "' in text_ and "does not exist" in text_:
        return True  # not a missing table: that is a bug, not an unreachable warehouse
    return any(
        marker in text_
        for marker in (
            "could not connect",
            "connection refused",
            "could not translate host name",
            "password authentication failed",
            "timeout expired",
            "server closed the connection",
            "no such host",
            "could not set lock",
            "conflicting lock",
            "io error",
        )
    )
