"""Checking a batch of input records: types, required fields, and where each problem is.

Validation is vectorised with pandas, so a million lines cost well under a
second. A record is rejected for: an empty invoice number, a quantity that is
not a whole number, a price that is not a number (or out of range), an
invoice date that is not ``YYYY-MM-DD HH:MM[:SS]``, or a customer id that is
not a whole number. Everything else the real data has (duplicates, zero
prices, negative quantities, odd stock codes) is loaded and counted later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from lgs_reports.load.readers import COLUMNS, Batch, typed_rows

MAX_PRICE = 1e9  # numeric(12,3)
MAX_INT = 2**31 - 1
DATE_FORMAT_HINT = "not a date and time like 2011-12-09 12:50:00"


@dataclasses.dataclass(frozen=True)
class Reject:
    line: int
    column: str  # warehouse column name
    value: str
    reason: str
    record: tuple[str, ...]


@dataclasses.dataclass
class Checked:
    """A batch after validation: the good rows, typed, and the rejected ones."""

    rows: pd.DataFrame  # the warehouse columns, typed
    copy_text: str | None  # COPY text of the good rows (pg_dump input only)
    copy_columns: tuple[str, ...]
    rejects: list[Reject]


def _cell_text(value: object) -> object:
    """A spreadsheet cell as text: integral floats lose their ``.0``, dates are ISO."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _text(values: pd.Series, cells: bool) -> pd.Series:
    """A text column, stripped of nothing: empty strings are NULL (CSV cannot tell them apart)."""
    if cells:
        values = values.map(_cell_text)
    series = values.astype("string")
    return series.mask(series == "")


def _whole(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Numbers that must be whole: the parsed values and a mask of the good ones."""
    number = pd.to_numeric(values, errors="coerce") if values.dtype.kind not in "if" else values
    ok = number.notna() & (number == np.floor(number)) & (number.abs() <= MAX_INT)
    return number, np.array(ok, dtype=bool)


def check_batch(batch: Batch) -> Checked:
    """Validate one batch; bad records come back as rejects, never as exceptions."""
    frame = batch.frame
    cells = batch.sheet is not None
    n = len(frame)
    bad = np.zeros(n, dtype=bool)
    problems: list[tuple[np.ndarray, str, str]] = []

    def flag(mask: np.ndarray, column: str, reason: str) -> None:
        nonlocal bad
        mask = mask & ~bad
        if mask.any():
            problems.append((mask, column, reason))
            bad |= mask

    text = {
        c: _text(frame[c], cells) for c in ("invoice_no", "stock_code", "description", "country")
    }
    flag(text["invoice_no"].isna().to_numpy(), "invoice_no", "the invoice number is empty")

    quantity, ok = _whole(frame["quantity"] if batch.typed else _text(frame["quantity"], cells))
    flag(~ok, "quantity", "not a whole number")

    price_in = frame["unit_price"] if batch.typed else _text(frame["unit_price"], cells)
    price = pd.to_numeric(price_in, errors="coerce") if not batch.typed else price_in
    ok = (price.notna() & np.isfinite(price) & (price.abs() < MAX_PRICE)).to_numpy(
        dtype=bool, na_value=False
    )
    flag(~ok, "unit_price", "not a number")

    date_in = frame["invoice_date"]
    if cells:
        date_in = _text(date_in, cells)
    when = pd.to_datetime(date_in, format="ISO8601", errors="coerce")
    flag(when.isna().to_numpy(), "invoice_date", DATE_FORMAT_HINT)

    cust_in = frame["customer_id"] if batch.typed else _text(frame["customer_id"], cells)
    customer, ok = _whole(cust_in)
    ok |= np.asarray(pd.isna(cust_in))
    flag(~ok, "customer_id", "not a whole number")

    rejects = _rejects(frame, batch.lines, problems, cells) if problems else []
    good = ~bad
    rows = typed_rows(
        {
            "invoice_no": text["invoice_no"][good].str.strip(),
            "stock_code": text["stock_code"][good],
            "description": text["description"][good],
            "quantity": quantity[good],
            "invoice_date": when[good],
            "unit_price": price[good],
            "customer_id": customer[good],
            "country": text["country"][good],
        }
    ).reset_index(drop=True)
    copy_text = batch.copy_text
    if copy_text is not None and bad.any():
        records = copy_text.split("\n")[:n]
        copy_text = "".join(r + "\n" for r, keep in zip(records, good, strict=True) if keep)
    return Checked(rows, copy_text, batch.copy_columns, rejects)


def _rejects(
    frame: pd.DataFrame, lines: np.ndarray, problems: list[tuple[np.ndarray, str, str]], cells: bool
) -> list[Reject]:
    rejects = []
    for mask, column, reason in problems:
        for i in np.flatnonzero(mask):
            record = tuple(_shown(frame[c].iat[i], cells) for c in COLUMNS)
            value = record[COLUMNS.index(column)]
            rejects.append(
                Reject(
                    line=int(lines[i]),
                    column=column,
                    value=value,
                    reason=reason if value else "missing",
                    record=record,
                )
            )
    rejects.sort(key=lambda r: r.line)
    return rejects


def _shown(value: object, cells: bool) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    # a typed block holds customer ids as floats: show 13085, as the file has it
    return str(_cell_text(value) if cells or isinstance(value, float) else value)
