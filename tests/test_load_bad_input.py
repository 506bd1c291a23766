"""Bad input files: one exact ``error:`` line, exit code 2, and the warehouse exactly as it was.

Each case runs ``lgs-reports load FILE`` in-process on a warehouse that already
holds one good file, so that "as it was" is more than "empty": the raw lines,
the registry and every column of ``invoices`` are compared before and after.
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lgs_reports.load.readers import COLUMNS, PUBLIC_COLUMNS
from tests.conftest import PG_DUMP_COPY_LINE, Inputs, table_rows

FORMATS = "a pg_dump .sql[.gz], a .csv[.gz] or an .xlsx workbook"
PUBLIC = ",".join(PUBLIC_COLUMNS)
FIX = "; fix the file, or pass --max-rejects N to load the good rows and set bad ones aside"


def row(n: int, **change) -> list:
    """A good line of invoice 500000+n; keyword arguments replace columns."""
    values = {
        "invoice_no": str(500000 + n),
        "stock_code": "85123A",
        "description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "quantity": 6,
        "invoice_date": "2010-03-01 10:00:00",
        "unit_price": "2.550",
        "customer_id": 13085,
        "country": "United Kingdom",
    }
    values.update(change)
    return [values[c] for c in COLUMNS]


GOOD = [row(n) for n in range(6)]


@pytest.fixture
def before(run_cli, inputs, snapshot) -> dict:
    """The warehouse after one good load: what every failed load must leave."""
    good = inputs.csv("good.csv", [row(n, invoice_no=str(400000 + n)) for n in range(5)])
    result = run_cli(["load", good])
    assert result.code == 0, result.err
    state = snapshot()
    assert state["retail"][0] == 5 and state["load_registry"][0] == 1
    return state


def relative(path: Path) -> str:
    """The path as the user typed it (the CLI runs in tmp_path)."""
    return str(path.relative_to(path.parents[1]))


def gzipped_csv(inputs: Inputs, name: str) -> bytes:
    """A gzipped CSV of 3,000 distinct lines (large enough that its halves differ)."""
    rows = [row(n, quantity=n % 97 + 1) for n in range(3000)]
    return inputs.csv(name, rows, compress=True).read_bytes()


def pg_dump_lines(inputs: Inputs, name: str, rows: list) -> list[str]:
    return inputs.pg_dump(name, rows).read_text(encoding="utf-8").splitlines(keepends=True)


FIRST_ROW = PG_DUMP_COPY_LINE + 1  # the source line of a dump's first data row

# name -> a function that writes the bad file and returns (path, the message after "error: ")
Case = Callable[[Inputs], tuple[Path, str]]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


@case
def missing_column(inputs):
    header = [c for c in PUBLIC_COLUMNS if c != "Customer ID"]
    p = inputs.csv("missing.csv", [r[:6] + r[7:] for r in GOOD], header=header)
    return p, f"{relative(p)} line 1: missing column 'Customer ID'; expected the header {PUBLIC}"


@case
def unexpected_column(inputs):
    p = inputs.csv("extra.csv", [[*r, "x"] for r in GOOD], header=[*PUBLIC_COLUMNS, "Extra"])
    return p, (
        f"{relative(p)} line 1, column 9: unexpected column 'Extra'; expected the header {PUBLIC}"
    )


@case
def wrong_header(inputs):
    p = inputs.write("wrong.csv", b"name,email,phone\nAda,ada@example.com,123\n")
    return p, (
        f"{relative(p)} line 1: the header 'name,email,phone' has none of the expected columns; "
        f"expected {PUBLIC} or {','.join(COLUMNS)}"
    )


@case
def warehouse_header_missing_column(inputs):
    p = inputs.csv("wh.csv", [r[1:] for r in GOOD], header=COLUMNS[1:])
    return p, (
        f"{relative(p)} line 1: missing column 'invoice_no'; expected the header "
        f"{','.join(COLUMNS)}"
    )


@case
def bad_date(inputs):
    p = inputs.csv("date.csv", [*GOOD[:3], row(9, invoice_date="2010-02-30 10:00:00")])
    return p, (
        f"{relative(p)} line 5, column 5 (invoice_date): '2010-02-30 10:00:00' is not a date "
        f"and time like 2011-12-09 12:50:00{FIX}"
    )


@case
def date_in_another_format(inputs):
    p = inputs.csv("us_date.csv", [row(9, invoice_date="12/01/2009 07:45"), *GOOD])
    return p, (
        f"{relative(p)} line 2, column 5 (invoice_date): '12/01/2009 07:45' is not a date "
        f"and time like 2011-12-09 12:50:00{FIX}"
    )


@case
def non_numeric_quantity(inputs):
    p = inputs.csv("qty.csv", [*GOOD, row(9, quantity="six")])
    return p, f"{relative(p)} line 8, column 4 (quantity): 'six' is not a whole number{FIX}"


@case
def fractional_quantity(inputs):
    p = inputs.csv("qty2.csv", [row(9, quantity="1.5"), *GOOD])
    return p, f"{relative(p)} line 2, column 4 (quantity): '1.5' is not a whole number{FIX}"


@case
def non_numeric_price(inputs):
    p = inputs.csv("price.csv", [*GOOD[:1], row(9, unit_price="£2.55"), *GOOD[1:]])
    return p, f"{relative(p)} line 3, column 6 (unit_price): '£2.55' is not a number{FIX}"


@case
def non_integer_customer_id(inputs):
    p = inputs.csv("customer.csv", [*GOOD, row(9, customer_id="13085.5")])
    return p, (
        f"{relative(p)} line 8, column 7 (customer_id): '13085.5' is not a whole number{FIX}"
    )


@case
def text_customer_id(inputs):
    p = inputs.csv("customer2.csv", [row(9, customer_id="C13085"), *GOOD])
    return p, f"{relative(p)} line 2, column 7 (customer_id): 'C13085' is not a whole number{FIX}"


@case
def empty_invoice_number(inputs):
    p = inputs.csv("invoice.csv", [*GOOD[:2], row(9, invoice_no=None)])
    return p, f"{relative(p)} line 4, column 1 (invoice_no): missing{FIX}"


@case
def bad_value_in_a_pg_dump(inputs):
    p = inputs.pg_dump("bad_value.sql", [*GOOD[:2], row(9, quantity="x"), *GOOD[2:]])
    return (
        p,
        f"{relative(p)} line {FIRST_ROW + 2}, column 4 (quantity): 'x' is not a whole number{FIX}",
    )


@case
def bad_value_in_a_workbook(inputs):
    p = inputs.xlsx(
        "bad.xlsx",
        {"Year 2009-2010": GOOD, "Year 2010-2011": [*GOOD[:3], row(9, unit_price="n/a")]},
    )
    return p, f"{relative(p)} row 5, column 6 (unit_price): 'n/a' is not a number{FIX}"


@case
def csv_row_with_too_many_fields(inputs):
    p = inputs.csv("many.csv", [*GOOD[:3], [*GOOD[3], "extra"], *GOOD[4:]])
    return p, (
        f"{relative(p)} line 5: more fields than the header has (8); check the quoting on that line"
    )


@case
def csv_row_with_too_few_fields(inputs):
    p = inputs.csv("few.csv", [*GOOD[:3], GOOD[3][:7], *GOOD[4:]])
    return p, (
        f"{relative(p)} line 5: fewer fields than the header has (8); check the quoting on "
        "that line"
    )


@case
def truncated_gzip(inputs):
    data = gzipped_csv(inputs, "whole.csv.gz")
    p = inputs.write("truncated.csv.gz", data[: len(data) // 2])
    return p, f"{relative(p)}: the gzip file is truncated (after line 1); copy it again"


@case
def truncated_gzip_dump(inputs):
    data = inputs.pg_dump("whole.sql.gz", [row(n) for n in range(3000)], compress=True)
    data = data.read_bytes()
    p = inputs.write("truncated.sql.gz", data[: len(data) // 2])
    return p, (
        f"{relative(p)}: the gzip file is truncated (after line {PG_DUMP_COPY_LINE}); copy it again"
    )


@case
def corrupt_gzip(inputs):
    data = gzipped_csv(inputs, "whole.csv.gz")
    p = inputs.write("corrupt.csv.gz", data[:12] + bytes(b ^ 0x5A for b in data[12:]))
    return (
        p,
        f"{relative(p)}: the gzip data is truncated or corrupt at its start; copy the file again",
    )


@case
def gzip_with_a_wrong_checksum(inputs):
    data = bytearray(gzipped_csv(inputs, "whole.csv.gz"))
    data[-8] ^= 0x01  # the CRC-32 of the trailer
    p = inputs.write("crc.csv.gz", bytes(data))
    return p, f"{relative(p)}: corrupt gzip data (after line 1: CRC check failed"


@case
def empty_file(inputs):
    p = inputs.write("empty.csv", b"")
    return p, f"{relative(p)}: the file is empty; nothing to load"


@case
def empty_gzip(inputs):
    p = inputs.write("empty.csv.gz", b"", compress=True)
    return p, f"{relative(p)}: the file is empty once decompressed; nothing to load"


@case
def header_only(inputs):
    p = inputs.csv("header.csv", [])
    return p, f"{relative(p)}: a header but no rows; nothing to load"


@case
def png_image(inputs):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    p = inputs.write("chart.png", png)
    return p, f"{relative(p)}: binary data, not {FORMATS}"


@case
def random_binary(inputs):
    p = inputs.write("random.csv", random.Random(7).randbytes(5000))
    return p, f"{relative(p)}: binary data, not {FORMATS}"


@case
def prose_text(inputs):
    p = inputs.write("notes.txt", b"Dear team,\nthe figures for November follow.\n")
    return p, (
        f"{relative(p)} line 1: the header 'Dear team,' has none of the expected columns; "
        f"expected {PUBLIC} or {','.join(COLUMNS)}"
    )


@case
def prose_without_a_known_name(inputs):
    p = inputs.write("README", b"Load the extracts every month.\nThen run the brief.\n")
    return p, f"{relative(p)}: not {FORMATS}"


@case
def zip_archive(inputs):
    p = inputs.folder / "extracts.zip"
    with zipfile.ZipFile(p, "w") as archive:
        archive.writestr("retail.csv", "Invoice\n")
    return p, f"{relative(p)}: a ZIP archive, not {FORMATS}"


@case
def broken_workbook(inputs):
    p = inputs.write("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    return p, f"{relative(p)}: not a readable .xlsx workbook (File is not a zip file)"


@case
def latin1_csv(inputs):
    p = inputs.csv("latin1.csv", [*GOOD[:2], row(9, description="Café £")], encoding="latin-1")
    return p, (
        f"{relative(p)} line 4, character 18: not valid utf-8 (byte 0xe9); if the file is "
        "Windows or Latin-1 text, pass --encoding cp1252 (or the file's own encoding)"
    )


@case
def pg_dump_truncated_in_copy(inputs):
    p = inputs.pg_dump("cut.sql", GOOD, complete=False)
    return p, (
        f"{relative(p)} line {FIRST_ROW + len(GOOD)}: the COPY block ends without its \\. line; "
        "the dump is truncated: copy it again"
    )


@case
def pg_dump_row_with_too_few_fields(inputs):
    lines = pg_dump_lines(inputs, "whole.sql", GOOD)
    lines[FIRST_ROW + 2 - 1] = lines[FIRST_ROW + 2 - 1].replace("\tUnited Kingdom", "")
    p = inputs.write("few.sql", "".join(lines).encode())
    return p, (
        f"{relative(p)} line {FIRST_ROW + 2}: 7 fields where the COPY header names 8; "
        "the dump is damaged"
    )


@case
def pg_dump_row_with_too_many_fields(inputs):
    lines = pg_dump_lines(inputs, "whole.sql", GOOD)
    lines[FIRST_ROW + 3 - 1] = lines[FIRST_ROW + 3 - 1].replace("\n", "\textra\n")
    p = inputs.write("many.sql", "".join(lines).encode())
    return p, (
        f"{relative(p)} line {FIRST_ROW + 3}: more fields than the COPY header names (8); "
        "the dump is damaged"
    )


@case
def pg_dump_first_row_with_too_many_fields(inputs):
    lines = pg_dump_lines(inputs, "whole.sql", GOOD)
    lines[FIRST_ROW - 1] = lines[FIRST_ROW - 1].replace("\n", "\textra\n")
    p = inputs.write("many_first.sql", "".join(lines).encode())
    return p, (
        f"{relative(p)} line {FIRST_ROW}: 9 fields where the COPY header names 8; "
        "the dump is damaged"
    )


@case
def pg_dump_of_another_table(inputs):
    text = inputs.pg_dump("whole.sql", GOOD).read_text().replace("public.retail", "public.orders")
    p = inputs.write("orders.sql", text.encode())
    return p, (
        f"{relative(p)}: no COPY block for table retail; expected a plain-format pg_dump of it"
    )


@case
def pg_dump_without_a_column(inputs):
    p = inputs.pg_dump("cols.sql", [r[:7] for r in GOOD], columns=COLUMNS[:7])
    return p, (
        f"{relative(p)} line {PG_DUMP_COPY_LINE}: the COPY block lacks column country; "
        f"expected the columns {', '.join(COLUMNS)}"
    )


@case
def missing_file(inputs):
    p = inputs.folder / "nosuch.csv"
    return p, f"{relative(p)}: no such file"


@case
def a_folder(inputs):
    p = inputs.folder / "extracts"
    p.mkdir()
    return p, f"{relative(p)}: is a folder; give the files to load"


@pytest.mark.parametrize("name", CASES)
def test_bad_file_is_refused_and_changes_nothing(name, run_cli, inputs, snapshot, before):
    path, message = CASES[name](inputs)
    code, out, err = run_cli(["load", relative(path)])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    if name == "gzip_with_a_wrong_checksum":  # the checksums in the message vary
        assert err.startswith(f"error: {message}") and err.endswith("; copy it again\n")
    else:
        assert err == f"error: {message}\n"
    assert snapshot() == before


def test_latin1_loads_with_its_encoding(run_cli, inputs, warehouse, before):
    path = CASES["latin1_csv"](inputs)[0]
    code, out, err = run_cli(["load", "--encoding", "latin-1", relative(path)])
    assert code == 0, err
    assert out.startswith("latin1.csv: loaded 3 lines as load #2")
    assert table_rows(warehouse, "SELECT description FROM retail WHERE invoice_no = '500009'") == [
        ("Café £",)
    ]


def test_second_file_fails_first_stays(run_cli, inputs, warehouse, before):
    """Each file is its own transaction: a bad second file keeps the first, says which failed."""
    good = inputs.csv("also_good.csv", GOOD)
    bad = inputs.csv("bad.csv", [row(9, quantity="six")])
    code, out, err = run_cli(["load", relative(good), relative(bad)])
    assert code == 2
    assert out.startswith("also_good.csv: loaded 6 lines as load #2")
    assert err.splitlines()[-1].startswith("error: inputs/bad.csv line 2, column 4 (quantity)")
    assert table_rows(warehouse, "SELECT count(*) FROM load_registry") == [(2,)]


# --- --max-rejects -------------------------------------------------------------------

TWO_BAD = [
    *GOOD[:2],
    row(10, quantity="six"),  # line 4 of a CSV
    *GOOD[2:5],
    row(11, invoice_date="2010-13-01 10:00:00"),  # line 8
    *GOOD[5:],
]


def write_two_bad(inputs: Inputs, kind: str) -> tuple[Path, list[int]]:
    if kind == "csv":
        return inputs.csv("two_bad.csv", TWO_BAD), [4, 8]
    return inputs.pg_dump("two_bad.sql", TWO_BAD), [FIRST_ROW + 2, FIRST_ROW + 6]


@pytest.mark.parametrize("kind", ["csv", "sql"])
def test_max_rejects_loads_the_good_rows_and_sets_the_bad_aside(
    run_cli, inputs, warehouse, tmp_path, before, kind
):
    path, lines = write_two_bad(inputs, kind)
    code, out, err = run_cli(["load", "--max-rejects", "5", relative(path)])
    assert code == 0, err
    rejects = tmp_path / "output" / "rejects" / f"{path.name}.rejects.csv"
    assert out.startswith(f"{path.name}: loaded 6 lines as load #2; 2 rejected to {rejects} (")
    with rejects.open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    assert got == [
        ["line", "column", "reason", *COLUMNS],
        [
            str(lines[0]),
            "quantity",
            "'six': not a whole number",
            *[str(v) for v in row(10, quantity="six")],
        ],
        [
            str(lines[1]),
            "invoice_date",
            "'2010-13-01 10:00:00': not a date and time like 2011-12-09 12:50:00",
            *[str(v) for v in row(11, invoice_date="2010-13-01 10:00:00")],
        ],
    ]
    assert table_rows(
        warehouse, "SELECT rows_loaded, rows_rejected FROM load_registry WHERE load_id = 2"
    ) == [(6, 2)]
    assert table_rows(
        warehouse, "SELECT count(*) FROM retail WHERE invoice_no IN ('500010', '500011')"
    ) == [(0,)]
    assert table_rows(warehouse, "SELECT count(*) FROM retail WHERE load_id = 2") == [(6,)]


@pytest.mark.parametrize("kind", ["csv", "sql"])
def test_more_rejects_than_allowed_loads_nothing(run_cli, inputs, tmp_path, snapshot, before, kind):
    path, lines = write_two_bad(inputs, kind)
    code, out, err = run_cli(["load", "--max-rejects", "1", relative(path)])
    assert (code, out) == (2, "")
    p = relative(path)
    assert err == (
        f"error: {p} has more than --max-rejects 1 bad rows; first: {p} line {lines[0]}, "
        "column 4 (quantity): 'six' is not a whole number\n"
    )
    assert snapshot() == before
    assert not list((tmp_path / "output").rglob("*.rejects.csv"))


def test_negative_max_rejects_is_refused(run_cli, inputs, before):
    code, _, err = run_cli(["load", "--max-rejects", "-1", "inputs/good.csv"])
    assert (code, err) == (2, "error: --max-rejects must be 0 or more\n")


# --- the warehouse itself is wrong -------------------------------------------------------


class TestUnusableWarehouse:
    """No warehouse is involved: the URL itself is what is tested (so one run, not two)."""

    @pytest.fixture
    def warehouse_url(self) -> str:
        return "postgresql://lgs:s3cret@127.0.0.1:1/nodb"

    @pytest.fixture
    def good(self, inputs) -> str:
        return relative(inputs.csv("good.csv", GOOD))

    def test_unreachable_database(self, run_cli, good):
        code, out, err = run_cli(["load", good])
        assert code == 3 and out == ""
        assert err.startswith(
            "error: warehouse postgresql database 'nodb' on 127.0.0.1:1 unavailable: "
        )
        assert err.endswith("; check [database] url / LGS_DATABASE_URL\n")
        assert err.count("\n") == 1
        assert "s3cret" not in err and "Traceback" not in err

    def test_unsupported_scheme(self, run_cli, good, monkeypatch):
        monkeypatch.setenv("LGS_DATABASE_URL", "mysql://lgs:s3cret@127.0.0.1/nodb")
        code, out, err = run_cli(["load", good])
        assert (code, out) == (2, "")  # a setting to fix, not a database to wait for
        assert err == (
            "error: environment variable LGS_DATABASE_URL: 'mysql://lgs:***@127.0.0.1/nodb' "
            "names a mysql database, which is not supported; expected postgresql://user:"
            "password@host:5432/db (postgres:// too) or duckdb:///path/to/warehouse.duckdb\n"
        )

    def test_not_a_url(self, run_cli, good, monkeypatch):
        monkeypatch.setenv("LGS_DATABASE_URL", "warehouse.duckdb")
        code, _, err = run_cli(["load", good])
        assert code == 2
        assert err == (
            "error: environment variable LGS_DATABASE_URL: 'warehouse.duckdb' is not a database "
            "URL; expected postgresql://user:password@host:5432/db (postgres:// too) or "
            "duckdb:///path/to/warehouse.duckdb\n"
        )

    def test_duckdb_file_that_is_not_a_warehouse(self, run_cli, good, monkeypatch, tmp_path):
        (tmp_path / "notes.duckdb").write_text("not a database\n")
        monkeypatch.setenv("LGS_DATABASE_URL", f"duckdb:///{tmp_path / 'notes.duckdb'}")
        code, _, err = run_cli(["load", good])
        assert code == 3
        assert err.startswith(
            f"error: warehouse duckdb file {tmp_path / 'notes.duckdb'} unavailable: "
        )
        assert err.count("\n") == 1 and "Traceback" not in err

    def test_duckdb_folder_that_cannot_be_made(self, run_cli, good, monkeypatch, tmp_path):
        (tmp_path / "file").write_text("")
        monkeypatch.setenv("LGS_DATABASE_URL", f"duckdb:///{tmp_path / 'file' / 'w.duckdb'}")
        code, _, err = run_cli(["load", good])
        assert code == 3
        assert err == (
            f"error: warehouse duckdb file {tmp_path / 'file' / 'w.duckdb'}: cannot create its "
            f"folder {tmp_path / 'file'} (File exists); check [database] url / LGS_DATABASE_URL\n"
        )

    def test_duckdb_file_held_by_another_process(self, run_cli, good, monkeypatch, tmp_path):
        """DuckDB lets one process write its file: a second one is told it is busy (exit 5)."""
        path = tmp_path / "held.duckdb"
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import duckdb, sys; c = duckdb.connect({str(path)!r}); "
                "print('ready', flush=True); sys.stdin.read()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline() == "ready\n"
            monkeypatch.setenv("LGS_DATABASE_URL", f"duckdb:///{path}")
            code, out, err = run_cli(["load", good])
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)
        assert (code, out) == (5, "")
        assert err == (
            f"error: warehouse duckdb file {path} is in use by another process (PID {holder.pid}); "
            "try again when it has finished\n"
        )


def test_a_rejects_folder_that_cannot_be_made_is_refused_first(run_cli, inputs, snapshot, before):
    path, _ = write_two_bad(inputs, "csv")
    (inputs.folder / "taken").write_text("a file, not a folder\n")
    code, out, err = run_cli(
        ["load", "--max-rejects", "5", "--rejects-dir", "inputs/taken/rejects", relative(path)]
    )
    assert (code, out) == (2, "")
    assert err == (
        "error: inputs/taken/rejects: cannot make the rejects folder (Not a directory); "
        "pass --rejects-dir with a folder that can be written\n"
    )
    assert snapshot() == before
