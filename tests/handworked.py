"""Helpers of the hand-worked datasets (test_definitions.py, test_growth.py): rows written
as a CSV in the warehouse's own columns, loaded by the real loader, analysed as a brief is."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from lgs_reports.analyses import Analysis, analyse
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.load import load_file
from lgs_reports.load.readers import COLUMNS
from lgs_reports.periods import parse_period

UK = "United Kingdom"


def write_rows(path: Path, rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def load_rows(warehouse, tmp_path: Path, rows: Iterable[Sequence[object]], name: str):
    load_file(warehouse, write_rows(tmp_path / f"{name}.csv", rows))
    return warehouse


def line(invoice, stock, qty, when, price, customer, country=UK, description="X"):
    """One warehouse line in the column order of COLUMNS."""
    return (invoice, stock, description, qty, when, price, customer, country)


def analysis_of(warehouse, period: str) -> Analysis:
    with warehouse.reader() as reader:
        data = fetch(reader, parse_period(period), rfm_window_days=365)
    return analyse(data, load_settings(env={}))
