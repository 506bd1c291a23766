"""Every input format loads the same hand-made lines exactly, and the derived tables are right.

Eight lines, written as a CSV (both headers, plain, gzipped, with a BOM and
CRLF as Excel writes it), as a pg_dump (plain and gzipped) and as a two-sheet
workbook, must arrive in ``retail`` identical: NULLs, three-decimal prices,
commas, quotes, a newline and a tab inside a description, leading and trailing
spaces, ``Café £``. The expected ``lines``, ``invoices``, ``daily_quality`` and
``stock_codes`` rows below are worked out by hand from those eight lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgs_reports.errors import LoadError
from lgs_reports.load import load_file, load_frames, readers
from lgs_reports.load.readers import COLUMNS, detect, unescape_copy
from tests.conftest import copy_escape, table_rows

WHITE = " WHITE HANGING HEART T-LIGHT HOLDER"  # leading space, as in the real data
FRAME = 'RECORD FRAME 7" SINGLE SIZE '  # a quote and a trailing space
ROWS = [
    ("489434", "85123A", WHITE, 6, "2009-12-01 07:45:00", "2.550", 13085, "United Kingdom"),
    ("489434", "22041", FRAME, 48, "2009-12-01 07:45:00", "2.100", 13085, "United Kingdom"),
    ("489434", "22041", FRAME, 48, "2009-12-01 07:45:00", "2.100", 13085, "United Kingdom"),
    (
        "489434",
        "POST",
        'POSTAGE, BY "AIR"',
        1,
        "2009-12-01 07:45:00",
        "18.000",
        13085,
        "United Kingdom",
    ),
    ("489435", "21232", "Café £ TRINKET\nBOX", 12, "2009-12-01 09:06:00", "0.125", None, "EIRE"),
    ("489435", "DCGS0058", "back\\slash\ttab", -3, "2009-12-01 09:06:00", "0.000", None, "EIRE"),
    ("C489436", "M", None, -1, "2009-12-02 10:00:00", "1.500", 13085, "United Kingdom"),
    (
        "A489437",
        "BANK CHARGES",
        "Bank Charges",
        1,
        "2009-12-02 11:00:00",
        "15.000",
        None,
        "United Kingdom",
    ),
]
D = Decimal
T = dt.datetime.fromisoformat


def typed(row) -> tuple:
    """A hand-made row as the warehouse returns it."""
    invoice, code, description, quantity, when, price, customer, country = row
    return (invoice, code, description, quantity, T(when), D(price), customer, country)


def sort_key(row: tuple) -> str:
    return repr(row)


# invoice_no, stock_code, copies, line_class, amount (quantity x price, 3 decimals)
LINES = {
    ("489434", "85123A", 1, "placed", D("15.300")),  # 6 x 2.55
    ("489434", "22041", 2, "placed", D("100.800")),  # 48 x 2.10, exported twice
    ("489434", "POST", 1, "placed", D("18.000")),
    ("489435", "21232", 1, "placed", D("1.500")),  # 12 x 0.125
    ("489435", "DCGS0058", 1, "placed", D("0.000")),  # -3 x 0
    ("C489436", "M", 1, "cancelled", D("-1.500")),
    ("A489437", "BANK CHARGES", 1, "adjustment", D("15.000")),
}
# invoice_no, line_class, customer_id, country, invoice_date, month, amount, line_count
INVOICES = {
    (
        "489434",
        "placed",
        13085,
        "United Kingdom",
        T("2009-12-01 07:45"),
        dt.date(2009, 12, 1),
        D("134.100"),
        3,
    ),  # 15.30 + 100.80 (once) + 18.00
    ("489435", "placed", None, "EIRE", T("2009-12-01 09:06"), dt.date(2009, 12, 1), D("1.500"), 2),
    (
        "C489436",
        "cancelled",
        13085,
        "United Kingdom",
        T("2009-12-02 10:00"),
        dt.date(2009, 12, 1),
        D("-1.500"),
        1,
    ),
    (
        "A489437",
        "adjustment",
        None,
        "United Kingdom",
        T("2009-12-02 11:00"),
        dt.date(2009, 12, 1),
        D("15.000"),
        1,
    ),
}
QUALITY_COLUMNS = (
    "day, raw_lines, distinct_lines, duplicate_copies, duplicate_value, guest_lines, "
    "placed_lines, cancelled_lines, adjustment_lines, adjustment_value, zero_price_lines, "
    "non_product_lines, non_product_value, negative_placed_lines"
)
QUALITY = [
    # 1 Dec: 6 raw lines, 5 distinct, one extra copy worth 100.80; the two EIRE lines are
    # guests; DCGS0058 has price 0 and quantity -3 on a placed invoice; POST and DCGS0058
    # are not products (18.00 + 0.00)
    (dt.date(2009, 12, 1), 6, 5, 1, D("100.800"), 2, 5, 0, 0, D("0.000"), 1, 2, D("18.000"), 1),
    # 2 Dec: the cancelled M line and the adjustment; non-product value leaves adjustments out
    (dt.date(2009, 12, 2), 2, 2, 0, D("0.000"), 1, 0, 1, 1, D("15.000"), 0, 2, D("-1.500"), 0),
]
STOCK_CODES = {
    ("85123A", True, 1, D("15.300")),
    ("22041", True, 1, D("100.800")),
    ("POST", False, 1, D("18.000")),
    ("21232", True, 1, D("1.500")),
    ("DCGS0058", False, 1, D("0.000")),
    ("M", False, 1, D("-1.500")),
    ("BANK CHARGES", False, 1, D("15.000")),
}


def write(inputs, kind: str, rows=ROWS, stem: str = "extract") -> Path:
    """The rows in one of the formats the loader reads."""
    if kind == "csv":
        return inputs.csv(f"{stem}.csv", rows)
    if kind == "csv-warehouse-header":
        return inputs.csv(f"{stem}.csv", rows, header=COLUMNS)
    if kind == "csv.gz":
        return inputs.csv(f"{stem}.csv.gz", rows, compress=True)
    if kind == "csv-excel":
        path = inputs.csv(f"{stem}.csv", rows, newline="\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        return path
    if kind == "sql":
        return inputs.pg_dump(f"{stem}.sql", rows)
    if kind == "sql.gz":
        return inputs.pg_dump(f"{stem}.sql.gz", rows, compress=True)
    if kind == "xlsx":
        half = len(rows) // 2
        return inputs.xlsx(
            f"{stem}.xlsx", {"Year 2009-2010": rows[:half], "Year 2010-2011": rows[half:]}
        )
    raise AssertionError(kind)


KINDS = ["csv", "csv-warehouse-header", "csv.gz", "csv-excel", "sql", "sql.gz", "xlsx"]
FORMAT_OF = {"sql": "pg_dump", "sql.gz": "pg_dump", "xlsx": "xlsx"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_format_loads_the_same_lines(warehouse, inputs, tmp_path, kind):
    path = write(inputs, kind)
    result = load_file(warehouse, path, rejects_dir=tmp_path)
    assert (result.rows_loaded, result.rows_rejected, result.rows_overlap) == (8, 0, 0)
    assert result.file_format == FORMAT_OF.get(kind, "csv")

    raw = table_rows(warehouse, f"SELECT {', '.join(COLUMNS)} FROM retail")
    assert sorted(raw, key=sort_key) == sorted(map(typed, ROWS), key=sort_key)
    prices = {str(r[5]) for r in raw}
    assert {"0.125", "2.550", "0.000"} <= prices  # three decimal places kept

    lines = table_rows(
        warehouse, "SELECT invoice_no, stock_code, copies, line_class, amount FROM lines"
    )
    assert len(lines) == 7 and set(lines) == LINES
    invoices = table_rows(
        warehouse,
        "SELECT invoice_no, line_class, customer_id, country, "
        "invoice_date, month, amount, line_count FROM invoices",
    )
    assert len(invoices) == 4 and set(invoices) == INVOICES
    quality = table_rows(warehouse, f"SELECT {QUALITY_COLUMNS} FROM daily_quality ORDER BY day")
    assert quality == QUALITY
    codes = table_rows(
        warehouse, "SELECT stock_code, is_product, line_count, total_amount FROM stock_codes"
    )
    assert set(codes) == STOCK_CODES


def test_a_dump_with_its_columns_in_another_order_loads_the_same_lines(
    warehouse, inputs, monkeypatch
):
    monkeypatch.setattr(readers, "BLOCK_CHARS", 200)  # a few lines a batch
    order = (7, 4, 0, 2, 6, 1, 5, 3)  # country first, quantity last
    path = inputs.pg_dump(
        "shuffled.sql",
        [tuple(row[i] for i in order) for row in ROWS],
        columns=[COLUMNS[i] for i in order],
    )
    assert load_file(warehouse, path).rows_loaded == 8
    raw = table_rows(warehouse, f"SELECT {', '.join(COLUMNS)} FROM retail")
    assert sorted(raw, key=sort_key) == sorted(map(typed, ROWS), key=sort_key)
    assert table_rows(warehouse, "SELECT DISTINCT load_id FROM retail") == [(1,)]


@pytest.mark.postgres
@pytest.mark.parametrize("warehouse_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("kind", ["csv", "sql"])
def test_the_load_id_is_set_for_the_load_alone(warehouse, inputs, kind, monkeypatch):
    """PostgreSQL takes each line's load id from a column default that reads a setting of
    the load's transaction: neither is left behind, whether the load commits or fails."""
    monkeypatch.setattr(readers, "BLOCK_CHARS", 200)  # the bad row comes during the COPY
    no_default = (
        "SELECT column_default FROM information_schema.columns "
        "WHERE table_name = 'retail' AND column_name = 'load_id'"
    )
    setting = "SELECT current_setting('lgs.load_id', true)"
    load_file(warehouse, write(inputs, kind))
    second = write(inputs, kind, [*SECOND, (None, *ROWS[0][1:])], stem="bad")
    with pytest.raises(LoadError):
        load_file(warehouse, second)
    load_file(warehouse, write(inputs, kind, SECOND, stem="second"))
    assert table_rows(warehouse, no_default) == [(None,)]
    assert table_rows(warehouse, setting) in ([(None,)], [("",)])
    assert table_rows(
        warehouse, "SELECT load_id, count(*) FROM retail GROUP BY load_id ORDER BY 1"
    ) == [(1, 8), (2, 6)]


@pytest.mark.parametrize("kind", ["csv.gz", "sql", "xlsx"])
def test_the_load_is_registered(warehouse, inputs, tmp_path, kind):
    path = write(inputs, kind)
    result = load_file(warehouse, path, rejects_dir=tmp_path)
    registry = table_rows(
        warehouse,
        "SELECT load_id, file_name, file_size, sha256, file_format, rows_loaded, rows_rejected, "
        "rows_overlap, first_invoice, last_invoice, is_sample FROM load_registry",
    )
    assert registry == [
        (
            1,
            path.name,
            path.stat().st_size,
            hashlib.sha256(path.read_bytes()).hexdigest(),
            FORMAT_OF.get(kind, "csv"),
            8,
            0,
            0,
            T("2009-12-01 07:45:00"),
            T("2009-12-02 11:00:00"),
            False,
        )
    ]
    assert result.load_id == 1
    loaded_at, duration = table_rows(warehouse, "SELECT loaded_at, duration_s FROM load_registry")[
        0
    ]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert dt.timedelta(0) <= now - loaded_at < dt.timedelta(minutes=1)  # UTC, not local
    assert 0 < duration < 60
    assert table_rows(warehouse, "SELECT DISTINCT load_id FROM retail") == [(1,)]


def test_loading_the_same_file_again_changes_nothing(run_cli, warehouse, inputs, snapshot):
    path = write(inputs, "sql.gz")
    code, out, _ = run_cli(["load", path])
    assert code == 0 and out.startswith(f"{path.name}: loaded 8 lines as load #1")
    before = snapshot()
    code, out, _ = run_cli(["load", path])
    assert code == 0
    assert out == f"{path.name}: already loaded (load #1, same sha256); nothing to do\n"
    assert snapshot() == before
    # the same content under another name is the same file
    copy = path.with_name("renamed.sql.gz")
    copy.write_bytes(path.read_bytes())
    code, out, _ = run_cli(["load", copy])
    assert (code, out) == (
        0,
        "renamed.sql.gz: already loaded (load #1, same sha256); nothing to do\n",
    )
    assert snapshot() == before


# The second extract: three lines the first already has (one of them the line that the
# first has twice), and three new lines on 3 December.
NEW = [
    ("489438", "85123A", WHITE, 12, "2009-12-03 08:00:00", "2.550", 13085, "United Kingdom"),
    ("489438", "POST", "POSTAGE", 1, "2009-12-03 08:00:00", "18.000", 13085, "United Kingdom"),
    ("489439", "22041", FRAME, 6, "2009-12-03 09:00:00", "2.100", 12346, "France"),
]
SECOND = [ROWS[0], ROWS[1], ROWS[4], *NEW]


def test_an_overlapping_extract_is_counted_once(run_cli, warehouse, inputs):
    first = write(inputs, "csv", stem="first")
    second = write(inputs, "sql", SECOND, stem="second")
    assert run_cli(["load", first]).code == 0
    code, out, _ = run_cli(["load", second])
    assert code == 0
    assert out.startswith(
        "second.sql: loaded 6 lines as load #2; 3 of them were already in the warehouse "
        "(overlapping extract; counted once)"
    )
    assert table_rows(
        warehouse, "SELECT load_id, rows_loaded, rows_overlap FROM load_registry ORDER BY 1"
    ) == [(1, 8, 0), (2, 6, 3)]
    assert table_rows(warehouse, "SELECT count(*) FROM retail") == [(14,)]

    invoices = dict(table_rows(warehouse, "SELECT invoice_no, amount FROM invoices"))
    assert invoices == {
        "489434": D("134.100"),  # unchanged: its lines in the second file count once
        "489435": D("1.500"),
        "C489436": D("-1.500"),
        "A489437": D("15.000"),
        "489438": D("48.600"),  # 12 x 2.55 + 18.00
        "489439": D("12.600"),  # 6 x 2.10
    }
    assert table_rows(warehouse, "SELECT sum(line_count) FROM invoices") == [(10,)]
    copies = dict(
        ((r[0], r[1]), r[2])
        for r in table_rows(warehouse, "SELECT invoice_no, stock_code, copies FROM lines")
    )
    assert copies[("489434", "85123A")] == 2
    assert copies[("489434", "22041")] == 3
    assert copies[("489435", "21232")] == 2
    quality = table_rows(
        warehouse,
        "SELECT day, raw_lines, distinct_lines, duplicate_copies, duplicate_value "
        "FROM daily_quality ORDER BY day",
    )
    assert quality == [
        # 15.30 + 2 x 100.80 + 1.50 of extra copies on 1 Dec
        (dt.date(2009, 12, 1), 9, 5, 4, D("218.400")),
        (dt.date(2009, 12, 2), 2, 2, 0, D("0.000")),
        (dt.date(2009, 12, 3), 3, 3, 0, D("0.000")),
    ]


def sample_frame(rows) -> pd.DataFrame:
    """Typed rows as the sample generator yields them."""
    values = list(zip(*map(typed, rows), strict=True))
    return pd.DataFrame(
        {
            "invoice_no": pd.Series(values[0], dtype="string"),
            "stock_code": pd.Series(values[1], dtype="string"),
            "description": pd.Series(values[2], dtype="string"),
            "quantity": pd.Series(values[3], dtype="int32"),
            "invoice_date": pd.Series(values[4], dtype="datetime64[us]"),
            "unit_price": pd.Series([float(p) for p in values[5]], dtype="float64"),
            "customer_id": pd.Series(values[6], dtype="Int32"),
            "country": pd.Series(values[7], dtype="string"),
        }
    )


def test_real_data_replaces_the_generated_sample(warehouse, inputs, tmp_path):
    load_frames(warehouse, [sample_frame(NEW)], name="generated sample", fingerprint="f" * 64)
    assert table_rows(warehouse, "SELECT is_sample, rows_loaded FROM load_registry") == [(True, 3)]
    load_file(warehouse, write(inputs, "csv"), rejects_dir=tmp_path)
    assert table_rows(warehouse, "SELECT file_name, is_sample FROM load_registry") == [
        ("extract.csv", False)
    ]
    raw = table_rows(warehouse, f"SELECT {', '.join(COLUMNS)} FROM retail")
    assert sorted(raw, key=sort_key) == sorted(map(typed, ROWS), key=sort_key)
    assert set(table_rows(warehouse, "SELECT invoice_no FROM invoices")) == {
        (i[0],) for i in INVOICES
    }


# --- the parsers alone, on any text (no warehouse) -------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1)


@given(TEXT)
def test_copy_escapes_round_trip(value):
    assert unescape_copy(copy_escape(value)) == value


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_any_description_survives_csv_and_pg_dump(tmp_path_factory, descriptions):
    folder = tmp_path_factory.mktemp("any")
    rows = [
        ("489434", "85123A", d, 1, "2009-12-01 07:45:00", "1.000", 13085, "United Kingdom")
        for d in descriptions
    ]
    csv_text = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, Python's writer leaves a lone "\r" unquoted
    writer = csv.writer(csv_text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    (folder / "any.csv").write_text(csv_text.getvalue(), encoding="utf-8", newline="")
    dump = "COPY public.retail ({}) FROM stdin;\n{}\\.\n".format(
        ", ".join(COLUMNS),
        "".join("\t".join(copy_escape(v) for v in r) + "\n" for r in rows),
    )
    (folder / "any.sql").write_text(dump, encoding="utf-8", newline="")
    for name in ("any.csv", "any.sql"):
        frames = [b.frame for b in detect(folder / name).batches()]
        got = pd.concat(frames)["description"].tolist()
        assert got == descriptions, name


def test_backslash_n_in_a_dump_is_text_unless_it_is_the_whole_field(inputs):
    """``\\N`` alone is NULL; an escaped backslash before an N is text."""
    descriptions = ["PINK\\NOW", "\\N", None, "tab\there", "C:\\new"]
    rows = [
        ("489434", "85123A", d, 1, "2009-12-01 07:45:00", "1.000", None, "EIRE")
        for d in descriptions
    ]
    frame = pd.concat(b.frame for b in detect(inputs.pg_dump("n.sql", rows)).batches())
    got = [None if pd.isna(d) else d for d in frame["description"]]
    assert got == descriptions
    assert frame["customer_id"].isna().all()
