"""``lgs-reports status``: what the warehouse holds, for the analyst who runs the job."""

from __future__ import annotations

import datetime as dt

from lgs_reports.dataset import data_window
from lgs_reports.formatting import date, number
from lgs_reports.queries import Reader, run_query
from lgs_reports.warehouse import Warehouse


def describe_warehouse(warehouse: Warehouse) -> str:
    lines = [f"warehouse: {warehouse.safe_url}"]
    if warehouse.is_empty():
        lines.append("empty: load data with `lgs-reports load FILE` or `lgs-reports sample`")
        return "\n".join(lines)
    with warehouse.connect() as conn:
        window = data_window(Reader([conn]), warehouse.safe_url)[0].iloc[0]
        loads = run_query(conn, "load_history")
        first = window["first_invoice"].to_pydatetime()
        end = window["last_invoice"].to_pydatetime() + dt.timedelta(days=1)
        quality = run_query(conn, "data_quality", start=first, end=end).iloc[0]
    lines.append(
        f"data: {date(window['first_invoice'])} to {date(window['last_invoice'])}, "
        f"{number(quality['raw_lines'])} raw lines, "
        f"{number(quality['duplicate_copies'])} duplicate "
        f"copies set aside, {number(window['invoices'])} invoices, "
        f"{number(window['customers'])} customers"
        + (" (generated sample data)" if window["is_sample"] else "")
    )
    lines.append("loads:")
    for row in loads.itertuples():
        lines.append(
            f"  #{row.load_id} {row.loaded_at:%Y-%m-%d %H:%M} UTC  "
            f"{row.file_name} ({row.file_format}): "
            f"{number(row.rows_loaded)} lines, {number(row.rows_rejected)} rejected, "
            f"{number(row.rows_overlap)} already present; sha256 {row.sha256[:12]}…"
        )
    return "\n".join(lines)
