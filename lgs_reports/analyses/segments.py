"""RFM segments: the ten segments from R and F scores, their summaries, the action lists,
and the migration between the previous snapshot and this one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lgs_reports.config import SEGMENTS, segment_key

NOT_SCORED = "Not scored"  # no placed invoice in the window before the previous snapshot
LAPSED = "Lapsed"  # scored before, no placed invoice in the window now

CSV_COLUMNS = (
    "customer_id",
    "country",
    "last_purchase",
    "recency",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
    "segment",
    "previous_segment",
    "action",
)


def segment_of(r: int, f: int) -> str:
    """The segment of an R-F cell (BRIEF_SPEC's table; every one of the 25 cells has one)."""
    if r == 5:
        return "Champions" if f >= 4 else "Potential Loyalists" if f >= 2 else "New Customers"
    if r == 4:
        return "Loyal Customers" if f >= 4 else "Potential Loyalists" if f >= 2 else "Promising"
    if r == 3:
        return "Loyal Customers" if f >= 4 else "Need Attention" if f == 3 else "About to Sleep"
    if f == 5:
        return "Can't Lose"
    return "At Risk" if f >= 3 else "Hibernating"


@dataclasses.dataclass(frozen=True)
class SegmentSummary:
    segment: str
    customers: int
    share_customers: float | None
    monetary: float  # net sales of its customers in the window
    share_monetary: float | None
    avg_recency: float | None
    avg_frequency: float | None
    avg_monetary: float | None
    action: str
    priority: bool
    csv_file: str


@dataclasses.dataclass(frozen=True)
class ActionList:
    segment: str
    action: str
    customers: int
    monetary: float
    top: tuple[dict, ...]  # the first rows of the CSV, as dicts
    csv_file: str


@dataclasses.dataclass(frozen=True)
class Migration:
    rows: tuple[str, ...]  # previous segment (then NOT_SCORED)
    columns: tuple[str, ...]  # current segment (then LAPSED)
    counts: tuple[tuple[int, ...], ...]

    def count(self, previous: str, current: str) -> int:
        return self.counts[self.rows.index(previous)][self.columns.index(current)]


@dataclasses.dataclass(frozen=True)
class Segments:
    snapshot: dt.date
    previous_snapshot: dt.date
    window_days: int
    customers: int
    summary: tuple[SegmentSummary, ...]  # the ten segments in the spec's order
    action_lists: tuple[ActionList, ...]  # the priority segments, in the configured order
    migration: Migration
    table: pd.DataFrame  # every scored customer with CSV_COLUMNS, ordered for the CSVs

    def summary_of(self, segment: str) -> SegmentSummary:
        return next(s for s in self.summary if s.segment == segment)

    def csv_files(self) -> dict[str, bytes]:
        """One CSV per segment (header only when empty), ready for a mailing tool."""
        files = {}
        for segment in SEGMENTS:
            rows = self.table[self.table["segment"] == segment]
            files[csv_name(segment)] = rows.to_csv(index=False, lineterminator="\n").encode()
        return files


def csv_name(segment: str) -> str:
    return f"segments/{segment_key(segment).replace('_', '-')}.csv"


def ntile(values: Sequence[pd.Series], ascending: Sequence[bool], buckets: int = 5) -> np.ndarray:
    """SQL's ``NTILE(buckets) OVER (ORDER BY values...)`` for every row, in row order.

    Rows are ranked by the keys in turn (the last one must be unique, so the order is
    total); the first ``n % buckets`` groups get one row more, as NTILE does.
    """
    keys = [v.to_numpy() if up else -v.to_numpy() for v, up in zip(values, ascending, strict=True)]
    order = np.lexsort(keys[::-1])  # lexsort's primary key is the last one
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    size, larger = divmod(len(order), buckets)
    boundary = larger * (size + 1)  # rows in the groups of size + 1
    return (
        np.where(
            position < boundary,
            position // (size + 1),
            larger + (position - boundary) // max(size, 1),
        )
        + 1
    )


def score(values: pd.DataFrame) -> pd.DataFrame:
    """The rfm_values rows with their quintile scores r, f and m (5 = best, ties by id).

    R ranks recency from the longest ago, F frequency and M monetary from the lowest.
    """
    customer = values["customer_id"].astype("int64")
    return values.assign(
        r=ntile([values["recency"].astype("int64"), customer], [False, True]),
        f=ntile([values["frequency"].astype("int64"), customer], [True, True]),
        m=ntile([values["monetary"].astype("float64"), customer], [True, True]),
    )


# segment_of for every cell, as a lookup table indexed by [r - 1, f - 1]
_GRID = np.array([[segment_of(r, f) for f in range(1, 6)] for r in range(1, 6)], dtype=object)


def assign_segments(scores: pd.DataFrame) -> pd.Series:
    r = scores["r"].to_numpy(dtype="int64") - 1
    f = scores["f"].to_numpy(dtype="int64") - 1
    return pd.Series(_GRID[r, f], index=scores.index, dtype="string")


def segments(
    values: pd.DataFrame,
    previous_values: pd.DataFrame,
    *,
    snapshot: dt.date,
    previous_snapshot: dt.date,
    window_days: int,
    action_for: Callable[[str], str],
    priority: Sequence[str],
    top_rows: int,
) -> Segments:
    """Score and segment the customers, summarise, list actions, and compare with before."""
    current = score(values)
    current["segment"] = assign_segments(current)
    before = score(previous_values)
    before["segment"] = assign_segments(before)
    previous_of = before.set_index("customer_id")["segment"]
    current["previous_segment"] = (
        current["customer_id"].map(previous_of).astype("string").fillna(NOT_SCORED)
    )
    current["action"] = current["segment"].map({s: action_for(s) for s in SEGMENTS})
    table = (
        current.sort_values(["monetary", "customer_id"], ascending=[False, True])
        .loc[:, list(CSV_COLUMNS)]
        .reset_index(drop=True)
    )
    table["last_purchase"] = pd.to_datetime(table["last_purchase"]).dt.strftime("%Y-%m-%d")
    table["monetary"] = table["monetary"].round(2)
    total_customers = len(table)
    total_monetary = float(table["monetary"].sum())
    of_segment = {segment: rows for segment, rows in table.groupby("segment", observed=True)}
    empty = table.iloc[0:0]
    summary = []
    for segment in SEGMENTS:
        rows = of_segment.get(segment, empty)
        n = len(rows)
        money = float(rows["monetary"].sum())
        summary.append(
            SegmentSummary(
                segment=segment,
                customers=n,
                share_customers=n / total_customers if total_customers else None,
                monetary=money,
                share_monetary=money / total_monetary if total_monetary else None,
                avg_recency=float(rows["recency"].mean()) if n else None,
                avg_frequency=float(rows["frequency"].mean()) if n else None,
                avg_monetary=money / n if n else None,
                action=action_for(segment),
                priority=segment in priority,
                csv_file=csv_name(segment),
            )
        )
    summary_of = {s.segment: s for s in summary}
    action_lists = [
        ActionList(
            segment=segment,
            action=summary_of[segment].action,
            customers=summary_of[segment].customers,
            monetary=summary_of[segment].monetary,
            top=tuple(
                _plain(r) for r in of_segment.get(segment, empty).head(top_rows).to_dict("records")
            ),
            csv_file=summary_of[segment].csv_file,
        )
        for segment in priority
    ]
    return Segments(
        snapshot=snapshot,
        previous_snapshot=previous_snapshot,
        window_days=window_days,
        customers=total_customers,
        summary=tuple(summary),
        action_lists=tuple(action_lists),
        migration=migration(before, current),
        table=table,
    )


def _plain(row: dict) -> dict:
    """A CSV row as JSON-ready Python values."""
    out = {}
    for key, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        out[key] = None if value is pd.NA else value
    return out


def migration(before: pd.DataFrame, current: pd.DataFrame) -> Migration:
    """Previous segment x current segment, counting customers."""
    rows = (*SEGMENTS, NOT_SCORED)
    columns = (*SEGMENTS, LAPSED)
    lapsed = before[~before["customer_id"].isin(current["customer_id"])]
    moves = pd.concat(
        [
            pd.DataFrame({"was": current["previous_segment"], "now": current["segment"]}),
            pd.DataFrame({"was": lapsed["segment"], "now": LAPSED}),
        ]
    )
    counts = (
        moves.groupby(["was", "now"], observed=True)
        .size()
        .unstack(fill_value=0)
        .reindex(index=rows, columns=columns, fill_value=0)
    )
    return Migration(rows, columns, tuple(tuple(int(n) for n in r) for r in counts.to_numpy()))
