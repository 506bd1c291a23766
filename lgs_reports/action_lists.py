"""The action lists as files: a CSV per segment for mailing tools, and one XLSX workbook
with a sheet per segment for the people who open them in Excel.

Both are read by spreadsheets, so text that a spreadsheet would run as a formula (OWASP's
CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, such as a country of ``=HYPERLINK("http://…","click")``) is written inert, behind
a single quote, and numbers stay numbers (a negative net sales is a number, not text).
In the workbook every column has its type: money in pounds, dates as dates, counts as
integers. Its bytes depend on the rows alone (fixed timestamps inside and in the zip), so
that an unchanged brief is archived once.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

WORKBOOK = "segments/action-lists.xlsx"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may evaluate
MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DAYS_FORMAT = "0.0"
WIDTH_BOUNDS = (6, 48)  # characters: the narrowest and widest a column is made
# characters XML 1.0 cannot hold (XlsxWriter would write _x0001_ escapes, which Excel shows):
# shown as U+FFFD in the workbook
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_BANNED = re.compile(r"[\\/*?:\[\]]")


@dataclasses.dataclass(frozen=True)
class Column:
    key: str  # the CSV header and the table's column
    label: str  # the workbook's header
    kind: str  # text, int, money, days, date or flag


COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "Customer", "int"),
    Column("country", "Country", "text"),
    Column("first_purchase", "First order", "date"),
    Column("last_purchase", "Last order", "date"),
    Column("recency", "Recency (days)", "int"),
    Column("frequency", "Orders", "int"),
    Column("monetary", "Net sales", "money"),
    Column("previous_monetary", "Net sales, year before", "money"),
    Column("change", "Change", "money"),
    Column("days_between_orders", "Days between orders", "days"),
    Column("last_order_value", "Last order value", "money"),
    Column("product_1_code", "Top product code", "text"),
    Column("product_1", "Top product", "text"),
    Column("product_2_code", "Second product code", "text"),
    Column("product_2", "Second product", "text"),
    Column("product_3_code", "Third product code", "text"),
    Column("product_3", "Third product", "text"),
    Column("suggested_code", "Suggested product code", "text"),
    Column("suggested_product", "Suggested product", "text"),
    Column("suggested_with", "Bought with (code)", "text"),
    Column("suggested_orders", "Orders with both", "int"),
    Column("r", "R", "int"),
    Column("f", "F", "int"),
    Column("m", "M", "int"),
    Column("segment", "Segment", "text"),
    Column("previous_segment", "Segment before", "text"),
    Column("action", "Action", "text"),
    Column("do_not_mail", "Do not mail", "flag"),
)


def inert(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading single quote when it
    starts like a formula (OWASP); anything else unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


Record = dict[str, Any]  # one customer of a list: COLUMNS' keys to plain Python values


def records(rows: pd.DataFrame) -> list[Record]:
    """A list's rows (a frame with every key of `COLUMNS`) as plain Python values, missing
    values as None: what `csv_bytes` and `workbook_bytes` write."""
    frame = rows.loc[:, [c.key for c in COLUMNS]].astype(object)
    return [
        {k: None if _missing(v) else v for k, v in record.items()}
        for record in frame.to_dict("records")
    ]


def csv_bytes(rows: list[Record]) -> bytes:
    """The list as CSV with the keys of `COLUMNS` as its header (header only when empty)."""
    out = io.StringIO()
    # RFC 4180's CRLF: a field holding a lone carriage return is then quoted, not split
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.key for c in COLUMNS])
    for record in rows:
        writer.writerow([_csv_cell(record[c.key], c.kind) for c in COLUMNS])
    return out.getvalue().encode()


def workbook_bytes(lists: Mapping[str, list[Record]], *, as_of: dt.datetime) -> bytes:
    """One sheet per list, in the mapping's order: header frozen, filters on, typed cells,
    columns sized to their content. ``as_of`` stamps the document (XlsxWriter stamps the
    zip's entries with a fixed date), so that the same lists give the same bytes."""
    import xlsxwriter

    raw = io.BytesIO()
    book = xlsxwriter.Workbook(raw, {"in_memory": True})
    book.set_properties({"title": "Action lists", "author": "lgs-reports", "created": as_of})
    formats = {
        "header": book.add_format({"bold": True}),
        "money": book.add_format({"num_format": MONEY_FORMAT}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "days": book.add_format({"num_format": DAYS_FORMAT}),
    }
    for name, rows in lists.items():
        _write_sheet(book.add_worksheet(sheet_title(name)), rows, formats)
    book.close()
    return raw.getvalue()


def sheet_title(name: str) -> str:
    """A worksheet name Excel accepts: no ``\\ / * ? : [ ]``, at most 31 characters, and no
    single quote at either end."""
    return _SHEET_NAME_BANNED.sub(" ", name)[:31].strip("'") or "Sheet"


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "int":
        return str(int(value))
    if kind == "money":
        return f"{float(value):.2f}"
    if kind == "days":
        return f"{float(value):.1f}"
    if kind == "flag":
        return "yes" if value else "no"
    return inert(str(value))  # text and ISO dates


def _write_sheet(sheet: Any, rows: list[Record], formats: Mapping[str, Any]) -> None:
    """One list on its sheet (an XlsxWriter worksheet): each cell written with its
    column's type, so that no text is ever taken for a number, a date or a formula."""
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(COLUMNS) - 1)
    for index, width in enumerate(_widths(rows)):
        sheet.set_column(index, index, width)
    for index, column in enumerate(COLUMNS):
        sheet.write_string(0, index, column.label, formats["header"])
    writers = [_cell_writer(sheet, column.kind, formats.get(column.kind)) for column in COLUMNS]
    for line, record in enumerate(rows, start=1):
        for index, (column, write) in enumerate(zip(COLUMNS, writers, strict=True)):
            value = record[column.key]
            if value is not None:
                write(line, index, value)


def _cell_writer(sheet: Any, kind: str, number_format: Any) -> Any:
    """How a column's present values are written: ``write(row, column, value)``."""
    if kind == "int":
        return lambda row, col, value: sheet.write_number(row, col, int(value))
    if kind in ("money", "days"):
        return lambda row, col, value: sheet.write_number(row, col, float(value), number_format)
    if kind == "date":
        return lambda row, col, value: sheet.write_datetime(
            row, col, dt.date.fromisoformat(str(value)), number_format
        )
    if kind == "flag":
        return lambda row, col, value: sheet.write_string(row, col, "yes" if value else "no")
    return lambda row, col, value: sheet.write_string(
        row, col, inert(_NOT_XML.sub("\ufffd", str(value)))
    )


def _widths(rows: Iterable[Record]) -> list[float]:
    """Each column as wide as its longest header or value as Excel shows it, within
    WIDTH_BOUNDS (plus two characters of air)."""
    shown = [len(c.label) for c in COLUMNS]
    for record in rows:
        for i, column in enumerate(COLUMNS):
            shown[i] = max(shown[i], len(_shown(record[column.key], column.kind)))
    low, high = WIDTH_BOUNDS
    return [float(min(max(n + 2, low), high)) for n in shown]


def _shown(value: Any, kind: str) -> str:
    """A value as the workbook's formats show it: what a column's width is made for."""
    if value is not None and kind == "money":
        return f"-£{-value:,.2f}" if value < 0 else f"£{value:,.2f}"
    return _csv_cell(value, kind)
