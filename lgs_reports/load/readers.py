"""Input files: recognise the format, then stream the records as parsed blocks.

Three formats are read, recognised from content first and name second: a
plain-format ``pg_dump`` of table ``retail`` (``.sql``/``.sql.gz``), CSV
(``.csv``/``.csv.gz``) with the public data set's or the warehouse's column
names, and the public XLSX workbook (every sheet). Text is cut into blocks of
whole records and parsed by pandas' C parser, so memory depends on the block
size, not on the file, and a million lines parse in about a second. Every
block knows the source line of each record, so that an error names file,
line and column.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from lgs_reports.errors import LoadError

COLUMNS = (
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)
PUBLIC_COLUMNS = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)
# The column types of the rows every load writes (checked file rows and the sample alike).
ROW_DTYPES = {
    "invoice_no": "string",
    "stock_code": "string",
    "description": "string",
    "quantity": "int32",
    "invoice_date": "datetime64[us]",
    "unit_price": "float64",
    "customer_id": "Int32",
    "country": "string",
}


def typed_rows(columns: Mapping[str, pd.Series]) -> pd.DataFrame:
    """The eight warehouse columns as a load writes them: ROW_DTYPES, prices to 3 decimals."""
    frame = pd.DataFrame({name: columns[name].astype(kind) for name, kind in ROW_DTYPES.items()})
    frame["unit_price"] = frame["unit_price"].round(3)
    return frame


BLOCK_CHARS = 4 << 20  # about 40,000 lines of the real data per block
XLSX_ROWS = 50_000
FORMATS = "a pg_dump .sql[.gz], a .csv[.gz] or an .xlsx workbook"

OnRead = Callable[[int], None]


@dataclasses.dataclass
class Batch:
    """A block of records: a frame with the warehouse columns, and where each record starts.

    Numbers arrive typed when the whole block parsed cleanly (the fast path);
    otherwise every column is text and validation says what is wrong.
    """

    frame: pd.DataFrame
    lines: np.ndarray  # the source line (or sheet row) where each record starts
    typed: bool = False
    copy_text: str | None = None  # pg_dump only: the block as COPY text, for PostgreSQL
    copy_columns: tuple[str, ...] = COLUMNS  # the column order of copy_text
    sheet: str | None = None  # XLSX only


class _CountingReader(io.RawIOBase):
    """Wraps a binary file and reports the bytes read, for the progress bar."""

    def __init__(self, raw: IO[bytes], on_read: OnRead | None) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._on_read and n:
            self._on_read(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclasses.dataclass
class InputFile:
    """One file given to ``load``: its format and how to read it."""

    path: Path
    format: str  # pg_dump, csv or xlsx (sample for generated data)
    compressed: bool = False
    encoding: str = "utf-8"

    @property
    def name(self) -> str:
        return self.path.name

    def batches(self, on_read: OnRead | None = None) -> Iterator[Batch]:
        reader = {"pg_dump": _read_pg_dump, "csv": _read_csv, "xlsx": _read_xlsx}[self.format]
        yield from reader(self, on_read)

    def open_text(self, on_read: OnRead | None) -> IO[str]:
        raw: IO[bytes] = io.BufferedReader(_CountingReader(self.path.open("rb"), on_read), 1 << 20)
        if self.compressed:
            raw = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        return io.TextIOWrapper(raw, encoding=_python_encoding(self.encoding), newline="")


def _python_encoding(encoding: str) -> str:
    """UTF-8 input may start with a byte-order mark (Excel writes one)."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def detect(path: Path, encoding: str = "utf-8") -> InputFile:
    """Recognise a file's format from its first bytes and its name, or say why not."""
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    if path.is_dir():
        raise LoadError(f"{path}: is a folder; give the files to load")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror})") from None
    if not head:
        raise LoadError(f"{path}: the file is empty; nothing to load")
    compressed = head[:2] == b"\x1f\x8b"
    name = path.name.lower()
    if compressed:
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(4096)
        except (EOFError, OSError, zlib.error):
            raise LoadError(
                f"{path}: the gzip data is truncated or corrupt at its start; copy the file again"
            ) from None
        if not head:
            raise LoadError(f"{path}: the file is empty once decompressed; nothing to load")
        name = name.removesuffix(".gz")
    if head[:4] == b"PK\x03\x04":
        if compressed or not name.endswith((".xlsx", ".xlsm")):
            raise LoadError(f"{path}: a ZIP archive, not {FORMATS}")
        return InputFile(path, "xlsx")
    try:
        import codecs

        codecs.lookup(encoding)
    except LookupError:
        raise LoadError(f"--encoding {encoding}: unknown encoding; try utf-8 or cp1252") from None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if _looks_like_pg_dump(text, name):
        return InputFile(path, "pg_dump", compressed, encoding)
    if b"\x00" in head:
        raise LoadError(f"{path}: binary data, not {FORMATS}")
    first = text.splitlines()[0] if text.strip() else ""
    if name.endswith((".csv", ".txt")) or any(d in first for d in ",;\t"):
        return InputFile(path, "csv", compressed, encoding)
    raise LoadError(f"{path}: not {FORMATS}")


def _looks_like_pg_dump(head: str, name: str) -> bool:
    start = head.lstrip()
    return (
        "PostgreSQL database dump" in head
        or start.startswith("\\restrict")
        or bool(re.search(r"^COPY \S*retail ", head, re.M))
        or (name.endswith(".sql") and start.startswith(("--", "SET ", "CREATE ")))
    )


def _guarded(path: Path, read: Iterator[Batch], where: Callable[[], str]) -> Iterator[Batch]:
    """Turn decompression failures into LoadErrors that say where the file broke."""
    try:
        yield from read
    except EOFError:
        raise LoadError(f"{path}: the gzip file is truncated ({where()}); copy it again") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise LoadError(f"{path}: corrupt gzip data ({where()}: {exc}); copy it again") from None


def _blocks(fh: IO[str], quoted: bool) -> Iterator[str]:
    """Cut a text stream into blocks of whole records (cut at a newline outside quotes).

    In CSV every quote character is paired (a literal quote is written twice),
    so a newline preceded by an even number of quotes ends a record.
    """
    pending = ""
    while chunk := fh.read(BLOCK_CHARS):
        pending += chunk
        cut = len(pending)
        while (cut := pending.rfind("\n", 0, cut)) >= 0:
            if not quoted or pending.count('"', 0, cut) % 2 == 0:
                break
        if cut >= 0:
            yield pending[: cut + 1]
            pending = pending[cut + 1 :]
    if pending:
        yield pending if pending.endswith("\n") else pending + "\n"


def _parse_block(
    block: str, names: tuple[str, ...], *, sep: str, quoting: int, null: str
) -> tuple[pd.DataFrame, bool]:
    """Parse a block with pandas' C parser: typed if every number parses, else all text."""
    options: dict[str, Any] = {
        "sep": sep,
        "header": None,
        "names": list(names),
        "quoting": quoting,
        "engine": "c",
        "keep_default_na": False,
        "na_values": {c: [null] for c in names if c not in ("quantity", "unit_price")},
    }
    if quoting == csv.QUOTE_NONE:
        options["quotechar"] = "\x00"
    typed = dict.fromkeys(names, str) | {
        "quantity": "int64",
        "unit_price": "float64",
        "customer_id": "float64",
    }
    try:
        return pd.read_csv(io.StringIO(block), dtype=typed, **options), True
    except (ValueError, OverflowError, pd.errors.ParserError):
        pass
    try:
        return pd.read_csv(io.StringIO(block), dtype=str, **options), False
    except pd.errors.ParserError as exc:
        raise _FieldCountError(str(exc)) from None


class _FieldCountError(Exception):
    """A record with more fields than the header; the message has pandas' line number."""

    def line(self) -> int:
        match = re.search(r"line (\d+)", str(self))
        return int(match.group(1)) if match else 1


def _record_starts(block: str, first_line: int, rows: int, sep: str) -> np.ndarray:
    """The line each record of a block starts on (a quoted field may hold newlines)."""
    if block.count("\n") == rows:
        return np.arange(first_line, first_line + rows, dtype=np.int64)
    reader = csv.reader(io.StringIO(block, newline=""), delimiter=sep)
    starts: list[int] = []
    consumed = 0
    for record in reader:
        if record:
            starts.append(first_line + consumed)
        consumed = reader.line_num
    return np.asarray(starts, dtype=np.int64)


def _short_records(frame: pd.DataFrame, last: str) -> np.ndarray:
    """Records that had fewer fields than the header (their last column is missing)."""
    return frame[last].isna().to_numpy() if last in frame else np.zeros(len(frame), dtype=bool)


# --- pg_dump -----------------------------------------------------------------

_COPY = re.compile(
    r'^COPY\s+(?:"?\w+"?\.)?"?retail"?\s*\(([^)]*)\)\s+FROM\s+stdin;\s*$', re.IGNORECASE
)
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))")
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def unescape_copy(field: str) -> str:
    """Decode the backslash escapes of PostgreSQL's COPY text format."""

    def repl(m: re.Match[str]) -> str:
        octal, hexa, char = m.groups()
        if octal:
            return chr(int(octal, 8))
        if hexa:
            return chr(int(hexa, 16))
        return _SIMPLE.get(char, char)

    return _ESCAPE.sub(repl, field)


def _read_pg_dump(src: InputFile, on_read: OnRead | None) -> Iterator[Batch]:
    line_no = 0

    def read() -> Iterator[Batch]:
        nonlocal line_no
        with src.open_text(on_read) as fh:
            order = _find_copy_header(src, fh)
            line_no = order[1]
            names = order[0]
            ended = False
            for block in _blocks(fh, quoted=False):
                end = _end_of_data(block)
                if end is not None:
                    block, ended = block[:end], True
                if block:
                    yield _pg_batch(src, block, names, line_no + 1)
                    line_no += block.count("\n")
                if ended:
                    break
            if not ended:
                raise LoadError(
                    f"{src.path} line {line_no + 1}: the COPY block ends without its \\. line; "
                    "the dump is truncated: copy it again"
                )
            for _rest in fh:  # the dump's closing DDL: read to check the file is whole
                pass

    yield from _guarded(src.path, read(), lambda: f"after line {line_no}")


def _find_copy_header(src: InputFile, fh: IO[str]) -> tuple[tuple[str, ...], int]:
    for number, line in enumerate(fh, start=1):
        match = _COPY.match(line.rstrip("\r\n"))
        if not match:
            continue
        names = tuple(c.strip().strip('"') for c in match.group(1).split(","))
        missing = [c for c in COLUMNS if c not in names]
        unknown = [c for c in names if c not in COLUMNS]
        if missing or unknown:
            what = f"lacks column {missing[0]}" if missing else f"has unknown column {unknown[0]}"
            raise LoadError(
                f"{src.path} line {number}: the COPY block {what}; "
                f"expected the columns {', '.join(COLUMNS)}"
            )
        return names, number
    raise LoadError(
        f"{src.path}: no COPY block for table retail; expected a plain-format pg_dump of it"
    )


def _end_of_data(block: str) -> int | None:
    """Where the COPY data ends in a block (the line ``\\.``), or None."""
    if block.startswith("\\.\n"):
        return 0
    at = block.find("\n\\.\n")
    return None if at < 0 else at + 1


def _pg_batch(src: InputFile, block: str, names: tuple[str, ...], first_line: int) -> Batch:
    try:
        frame, typed = _parse_block(block, names, sep="\t", quoting=csv.QUOTE_NONE, null="\\N")
    except _FieldCountError as exc:
        raise LoadError(
            f"{src.path} line {first_line + exc.line() - 1}: more fields than the COPY header "
            f"names ({len(names)}); the dump is damaged"
        ) from None
    lines = np.arange(first_line, first_line + len(frame), dtype=np.int64)
    if block.count("\t") != len(frame) * (len(names) - 1):
        # a record with fewer fields (more fields already failed to parse): find it
        for offset, record in enumerate(block.split("\n")):
            if record and record.count("\t") != len(names) - 1:
                raise LoadError(
                    f"{src.path} line {first_line + offset}: {record.count(chr(9)) + 1} fields "
                    f"where the COPY header names {len(names)}; the dump is damaged"
                )
    # most blocks have no backslash but those of \N (NULL): one look at the text then
    # spares a scan of each column
    escapes = block.count("\\") != block.count("\\N")
    for column in ("invoice_no", "stock_code", "description", "country") if escapes else ():
        values = frame[column]
        escaped = values.str.contains("\\", regex=False, na=False)
        if escaped.any():
            frame[column] = values.where(~escaped, values[escaped].map(unescape_copy))
    return Batch(frame[list(COLUMNS)], lines, typed=typed, copy_text=block, copy_columns=names)


# --- CSV ---------------------------------------------------------------------


def _header_map(where: str, header: list[str]) -> tuple[str, ...]:
    """The warehouse name of each of the file's columns, or a LoadError saying what is wrong."""
    names = [h.strip().lstrip("\ufeff") for h in header]
    for expected in (PUBLIC_COLUMNS, COLUMNS):
        if not set(expected) & set(names):
            continue
        missing = [c for c in expected if c not in names]
        if missing:
            raise LoadError(
                f"{where} line 1: missing column {missing[0]!r}; "
                f"expected the header {','.join(expected)}"
            )
        extra = [n for n in names if n not in expected]
        if extra:
            raise LoadError(
                f"{where} line 1, column {names.index(extra[0]) + 1}: unexpected column "
                f"{extra[0]!r}; expected the header {','.join(expected)}"
            )
        duplicated = [n for n in names if names.count(n) > 1]
        if duplicated:
            raise LoadError(f"{where} line 1: column {duplicated[0]!r} appears twice")
        return tuple(COLUMNS[expected.index(n)] for n in names)
    raise LoadError(
        f"{where} line 1: the header {','.join(names)[:80]!r} has none of the expected "
        f"columns; expected {','.join(PUBLIC_COLUMNS)} or {','.join(COLUMNS)}"
    )


def _read_csv(src: InputFile, on_read: OnRead | None) -> Iterator[Batch]:
    line_no = 0

    def read() -> Iterator[Batch]:
        nonlocal line_no
        with src.open_text(on_read) as fh:
            header_line = fh.readline()
            if not header_line.strip():
                raise LoadError(f"{src.path}: the file is empty; nothing to load")
            sep = _delimiter(header_line)
            names = _header_map(str(src.path), next(csv.reader([header_line], delimiter=sep)))
            line_no = 1
            rows = 0
            for block in _blocks(fh, quoted=True):
                try:
                    frame, typed = _parse_block(
                        block, names, sep=sep, quoting=csv.QUOTE_MINIMAL, null=""
                    )
                except _FieldCountError as exc:
                    raise LoadError(
                        f"{src.path} line {line_no + exc.line()}: more fields than the header "
                        f"has ({len(names)}); check the quoting on that line"
                    ) from None
                lines = _record_starts(block, line_no + 1, len(frame), sep)
                short = _short_records(frame, names[-1]) & _fewer_fields(block, frame, sep)
                if short.any():
                    at = int(lines[np.flatnonzero(short)[0]])
                    raise LoadError(
                        f"{src.path} line {at}: fewer fields than the header has "
                        f"({len(names)}); check the quoting on that line"
                    )
                line_no += block.count("\n")
                rows += len(frame)
                if len(frame):
                    yield Batch(frame[list(COLUMNS)], lines, typed=typed)
            if rows == 0:
                raise LoadError(f"{src.path}: a header but no rows; nothing to load")

    try:
        yield from _guarded(src.path, read(), lambda: f"after line {line_no}")
    except UnicodeDecodeError as exc:
        raise _decode_error(src, exc) from None


def _fewer_fields(block: str, frame: pd.DataFrame, sep: str) -> np.ndarray:
    """Which records really had fewer fields (only looked at when some last field is empty)."""
    result = np.zeros(len(frame), dtype=bool)
    if not _short_records(frame, frame.columns[-1]).any():
        return result
    width = len(frame.columns)
    for i, record in enumerate(
        r for r in csv.reader(io.StringIO(block, newline=""), delimiter=sep) if r
    ):
        if i < len(result) and len(record) < width:
            result[i] = True
    return result


def _delimiter(header: str) -> str:
    """Comma, unless the header has more semicolons or tabs (some European exports)."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _decode_error(src: InputFile, exc: UnicodeDecodeError) -> LoadError:
    """Find the first line that is not valid in the encoding, by re-reading the bytes."""
    opener: Any = gzip.open if src.compressed else open
    codec = _python_encoding(src.encoding)
    try:
        with opener(src.path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    raw.decode(codec)
                except UnicodeDecodeError as bad:
                    column = len(raw[: bad.start].decode(codec, errors="replace")) + 1
                    byte = raw[bad.start : bad.start + 1].hex()
                    return LoadError(
                        f"{src.path} line {number}, character {column}: not valid "
                        f"{src.encoding} (byte 0x{byte}); if the file is Windows or Latin-1 text, "
                        "pass --encoding cp1252 (or the file's own encoding)"
                    )
    except (OSError, EOFError, zlib.error):
        pass
    return LoadError(
        f"{src.path}: not valid {src.encoding} ({exc.reason}); pass --encoding with the "
        "file's encoding, e.g. --encoding cp1252"
    )


# --- XLSX --------------------------------------------------------------------


def _read_xlsx(src: InputFile, on_read: OnRead | None) -> Iterator[Batch]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(src.path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise LoadError(f"{src.path}: not a readable .xlsx workbook ({exc})") from None
    size = src.path.stat().st_size
    total = 0
    try:
        sheets = book.worksheets
        for number, sheet in enumerate(sheets, start=1):
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            cells = ["" if h is None else str(h) for h in header]
            while cells and cells[-1] == "":
                cells.pop()
            names = _header_map(f"{src.path} sheet {sheet.title!r}", cells)
            buffer: list[tuple[Any, ...]] = []
            lines: list[int] = []
            for row_no, row in enumerate(rows, start=2):
                if row is None or all(v is None for v in row):
                    continue
                buffer.append(tuple(row[: len(names)]) + (None,) * (len(names) - len(row)))
                lines.append(row_no)
                if len(buffer) >= XLSX_ROWS:
                    yield _xlsx_batch(buffer, lines, names, sheet.title)
                    total += len(buffer)
                    buffer, lines = [], []
            if buffer:
                yield _xlsx_batch(buffer, lines, names, sheet.title)
                total += len(buffer)
            if on_read:
                on_read(size * number // len(sheets) - size * (number - 1) // len(sheets))
    finally:
        book.close()
    if total == 0:
        raise LoadError(f"{src.path}: no rows in any sheet; nothing to load")


def _xlsx_batch(
    rows: list[tuple[Any, ...]], lines: list[int], names: tuple[str, ...], sheet: str
) -> Batch:
    frame = pd.DataFrame(rows, columns=list(names), dtype=object)
    return Batch(frame[list(COLUMNS)], np.asarray(lines, dtype=np.int64), sheet=sheet)
