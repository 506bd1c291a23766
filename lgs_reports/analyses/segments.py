"""RFM segments: the ten segments from R and F scores, their summaries, the action lists,
and the migration between the previous snapshot and this one.

An action list (BRIEF_SPEC, "Segment action list") is every customer of a segment with what
a campaign needs to write to them: spend now and a window earlier, order rhythm, last order,
biggest products, a suggested next product, the segment's action, and a flag on customers
whose net sales are zero or negative (not to be mailed). At Risk, Can't Lose and About to
Sleep are ordered by the spend they lost, the others by their net sales.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lgs_reports import segment_names
from lgs_reports.action_lists import COLUMNS, WORKBOOK, csv_bytes, records, workbook_bytes
from lgs_reports.segment_names import SEGMENTS

NOT_SCORED = "Not scored"  # no placed invoice in the window before the previous snapshot
LAPSED = "Lapsed"  # scored before, no placed invoice in the window now
# ordered by the spend they lost (previous monetary - monetary), the others by monetary
LOSS_ORDERED = ("At Risk", "Can't Lose", "About to Sleep")
TOP_PRODUCTS = 3


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
    top: tuple[dict, ...]  # the first rows of the list, as dicts
    csv_file: str
    order: str  # "spend_lost" or "monetary": what the list is ordered by, largest first
    do_not_mail: int  # customers flagged: net sales zero or negative
    suggested: int  # customers with a suggested next product
    spend_lost: float | None  # the segment's previous monetary - monetary; None: not covered


@dataclasses.dataclass(frozen=True)
class CustomerFacts:
    """What the action lists add to the scored customers, from the warehouse.

    ``orders``: customer_orders (previous monetary, days between orders, last order value);
    ``top_products``: customer_top_products; ``suggestions``: suggested_products, of which
    those below ``min_support`` orders are dropped. ``previous_covered``: the data covers the
    whole window before the RFM window, so that previous monetary is what they spent, not
    what the data happens to hold (else it is left empty and no list is ordered by it).
    """

    orders: pd.DataFrame
    top_products: pd.DataFrame
    suggestions: pd.DataFrame
    previous_covered: bool
    min_support: int
    pool_size: int


@dataclasses.dataclass(frozen=True)
class Migration:
    rows: tuple[str, ...]  # previous segment (then NOT_SCORED)
    columns: tuple[str, ...]  # current segment (then LAPSED)
    counts: tuple[tuple[int, ...], ...]

    def count(self, previous: str, current: str) -> int:
        return self.counts[self.rows.index(previous)][self.columns.index(current)]


@dataclasses.dataclass(frozen=True)
class SegmentLoss:
    """What a segment's customers, scored one window earlier, spent in the window after."""

    segment: str
    customers: int  # in the segment at the back-test snapshot
    window_net: float  # their net sales in the window before that snapshot
    following_net: float  # the same customers' net sales in the window after it

    @property
    def loss_share(self) -> float | None:
        """1 - following / window, not clamped (negative: they grew); None without a base."""
        return 1 - self.following_net / self.window_net if self.window_net > 0 else None


@dataclasses.dataclass(frozen=True)
class SegmentBacktest:
    """The segments at the snapshot one window before the brief's, and what they spent next:
    the measured loss share that revenue at stake of a segment rule is estimated from."""

    snapshot: dt.date
    losses: tuple[SegmentLoss, ...]  # the ten segments in the spec's order

    def of(self, segment: str) -> SegmentLoss:
        return next(x for x in self.losses if x.segment == segment)


@dataclasses.dataclass(frozen=True)
class Segments:
    snapshot: dt.date
    previous_snapshot: dt.date
    window_days: int
    customers: int
    summary: tuple[SegmentSummary, ...]  # the ten segments in the spec's order
    action_lists: tuple[ActionList, ...]  # the priority segments, in the configured order
    migration: Migration
    table: pd.DataFrame  # every scored customer, segment by segment in list order
    backtest: SegmentBacktest | None  # None when the data does not reach back two windows
    migration_covered: bool = True  # False: the data starts inside the previous window
    previous_covered: bool = True  # False: the data starts inside the window before
    suggestion_pool: int = 0  # best sellers a suggestion is chosen from
    suggestion_min_support: int = 1  # the fewest orders a suggestion shares with the customer's

    def summary_of(self, segment: str) -> SegmentSummary:
        return next(s for s in self.summary if s.segment == segment)

    @property
    def suggested(self) -> int:
        """Customers with a suggested next product."""
        return int(self.table["suggested_code"].notna().sum())

    def list_of(self, segment: str) -> pd.DataFrame:
        """The segment's action list, in its order."""
        return self.table[self.table["segment"] == segment]

    def list_files(self) -> dict[str, bytes]:
        """One CSV per segment (header only when empty), ready for a mailing tool, and one
        workbook with a sheet per segment for the people who open them in Excel."""
        lists = {name: records(self.list_of(name)) for name in SEGMENTS}
        files = {segment_names.segment(n).csv_file: csv_bytes(rows) for n, rows in lists.items()}
        as_of = dt.datetime.combine(self.snapshot, dt.time())
        files[WORKBOOK] = workbook_bytes(lists, as_of=as_of)
        return files


def quintile(values: pd.Series, *, higher_is_better: bool) -> np.ndarray:
    """BRIEF_SPEC's quintile score of every value: 1 + floor(5 * w / n), where w counts the
    values strictly worse. Equal values share a score, whatever their order or customer id.

    SQL: ``1 + floor(5 * (rank() OVER (ORDER BY value worst first) - 1) / count(*) OVER ())``.
    """
    x = values.to_numpy(dtype="float64")
    ordered = np.sort(x)
    if higher_is_better:
        worse = np.searchsorted(ordered, x, side="left")  # values below
    else:
        worse = len(x) - np.searchsorted(ordered, x, side="right")  # values above
    return 1 + (5 * worse) // max(len(x), 1)


def score(values: pd.DataFrame) -> pd.DataFrame:
    """The rfm_values rows with their quintile scores r, f and m (5 = best).

    A more recent last order, more orders and more net sales score higher.
    """
    return values.assign(
        r=quintile(values["recency"].astype("int64"), higher_is_better=False),
        f=quintile(values["frequency"].astype("int64"), higher_is_better=True),
        m=quintile(values["monetary"].astype("float64"), higher_is_better=True),
    )


# segment_of for every cell, as a lookup table indexed by [r - 1, f - 1]
_GRID = np.array([[segment_of(r, f) for f in range(1, 6)] for r in range(1, 6)], dtype=object)


def assign_segments(scores: pd.DataFrame, window_start: dt.date) -> pd.Series:
    """Each scored customer's segment. R 5 and F 1 is New Customers only for customers whose
    first order ever is inside the window (no history before it); the others are Promising."""
    r = scores["r"].to_numpy(dtype="int64") - 1
    f = scores["f"].to_numpy(dtype="int64") - 1
    segment = _GRID[r, f].copy()
    first = pd.to_datetime(scores["first_purchase"]).dt.date.to_numpy()
    returning = (segment == "New Customers") & (first < window_start)
    segment[returning] = "Promising"
    return pd.Series(segment, index=scores.index, dtype="string")


def scored(values: pd.DataFrame, snapshot: dt.date, window_days: int) -> pd.DataFrame:
    """rfm_values with scores and segments."""
    table = score(values)
    table["segment"] = assign_segments(table, snapshot - dt.timedelta(days=window_days))
    return table


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
    facts: CustomerFacts,
    backtest: tuple[dt.date, pd.DataFrame, pd.DataFrame] | None = None,
    previous_covered: bool = True,
) -> Segments:
    """Score and segment the customers, summarise, list actions, compare with before, and
    back-test the segments one window earlier (``backtest``: its snapshot, the rfm_values
    there, and customer_sales from it to ``snapshot``). ``previous_covered``: the data
    covers the whole window before ``previous_snapshot``, so that migration compares like
    with like. ``facts``: what the action lists add to each customer."""
    current = scored(values, snapshot, window_days)
    before = scored(previous_values, previous_snapshot, window_days)
    previous_of = before.set_index("customer_id")["segment"]
    current["previous_segment"] = (
        current["customer_id"].map(previous_of).astype("string").fillna(NOT_SCORED)
    )
    current["action"] = current["segment"].map({s: action_for(s) for s in SEGMENTS})
    for column in ("first_purchase", "last_purchase"):
        current[column] = pd.to_datetime(current[column]).dt.strftime("%Y-%m-%d")
    current["monetary"] = current["monetary"].round(2)
    table = action_table(with_facts(current, facts), facts.previous_covered)
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
                csv_file=segment_names.segment(segment).csv_file,
            )
        )
    summary_of = {s.segment: s for s in summary}
    action_lists = [
        action_list(
            summary_of[segment], of_segment.get(segment, empty), top_rows, facts.previous_covered
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
        backtest=None if backtest is None else segment_backtest(*backtest, window_days),
        migration_covered=previous_covered,
        previous_covered=facts.previous_covered,
        suggestion_pool=facts.pool_size,
        suggestion_min_support=facts.min_support,
    )


def with_facts(current: pd.DataFrame, facts: CustomerFacts) -> pd.DataFrame:
    """The scored customers with the action lists' columns: spend a window earlier and its
    change, days between orders, last order value, biggest products, suggested product and
    the do-not-mail flag. Money is rounded to the penny, as the lists show it."""
    orders = facts.orders.set_index("customer_id")
    ids = current["customer_id"]
    table = current.copy()
    if facts.previous_covered:
        previous = ids.map(orders["previous_monetary"]).astype("float64").fillna(0.0).round(2)
        table["previous_monetary"] = previous
        table["change"] = (table["monetary"] - previous).round(2)
        table["spend_lost"] = (previous - table["monetary"]).round(2)
    else:
        for column in ("previous_monetary", "change", "spend_lost"):
            table[column] = pd.Series(np.nan, index=table.index, dtype="float64")
    table["days_between_orders"] = ids.map(orders["days_between"]).astype("float64").round(1)
    table["last_order_value"] = ids.map(orders["last_order_value"]).astype("float64").round(2)
    products = facts.top_products
    for rank in range(1, TOP_PRODUCTS + 1):
        ranked = products[products["rank"] == rank].set_index("customer_id")
        table[f"product_{rank}_code"] = ids.map(ranked["stock_code"]).astype("string")
        table[f"product_{rank}"] = ids.map(ranked["description"]).astype("string")
    kept = facts.suggestions[facts.suggestions["support"] >= facts.min_support]
    suggested = kept.set_index("customer_id")
    table["suggested_code"] = ids.map(suggested["stock_code"]).astype("string")
    table["suggested_product"] = ids.map(suggested["description"]).astype("string")
    table["suggested_with"] = ids.map(suggested["paired_with"]).astype("string")
    table["suggested_orders"] = ids.map(suggested["support"]).astype("Int64")
    table["do_not_mail"] = table["monetary"] <= 0
    return table


def action_table(table: pd.DataFrame, previous_covered: bool) -> pd.DataFrame:
    """Every customer, segment by segment in the spec's order, each segment in list order:
    the spend lost, largest first, for the segments losing customers (when the data covers
    the window before), else net sales, largest first; ties by customer id."""
    parts = []
    for segment in SEGMENTS:
        rows = table[table["segment"] == segment]
        key = list_order(segment, previous_covered)
        parts.append(rows.sort_values([key, "customer_id"], ascending=[False, True]))
    columns = [c.key for c in COLUMNS] + ["spend_lost"]
    return pd.concat(parts).loc[:, columns].reset_index(drop=True)


def list_order(segment: str, previous_covered: bool) -> str:
    """The column a segment's list is ordered by, largest first."""
    return "spend_lost" if segment in LOSS_ORDERED and previous_covered else "monetary"


def action_list(
    summary: SegmentSummary, rows: pd.DataFrame, top_rows: int, previous_covered: bool
) -> ActionList:
    """A priority segment's list as the brief shows it: its first rows and its counts."""
    return ActionList(
        segment=summary.segment,
        action=summary.action,
        customers=summary.customers,
        monetary=summary.monetary,
        top=tuple(_plain(r) for r in rows.head(top_rows).to_dict("records")),
        csv_file=summary.csv_file,
        order=list_order(summary.segment, previous_covered),
        do_not_mail=int(rows["do_not_mail"].sum()),
        suggested=int(rows["suggested_code"].notna().sum()),
        spend_lost=round(float(rows["spend_lost"].sum()), 2) if previous_covered else None,
    )


def segment_backtest(
    snapshot: dt.date, values: pd.DataFrame, following: pd.DataFrame, window_days: int
) -> SegmentBacktest:
    """Each segment at ``snapshot``: its net sales in the window, and the same customers'
    net sales in ``following`` (customer_sales of the next window)."""
    then = scored(values, snapshot, window_days)
    spent = following.set_index("customer_id")["net"]
    then["following"] = then["customer_id"].map(spent).astype("float64").fillna(0.0)
    sums = then.groupby("segment", observed=True).agg(
        customers=("customer_id", "size"),
        window=("monetary", "sum"),
        following=("following", "sum"),
    )
    losses = []
    for segment in SEGMENTS:
        row = sums.loc[segment] if segment in sums.index else None
        losses.append(
            SegmentLoss(
                segment=segment,
                customers=0 if row is None else int(row["customers"]),
                window_net=0.0 if row is None else round(float(row["window"]), 2),
                following_net=0.0 if row is None else round(float(row["following"]), 2),
            )
        )
    return SegmentBacktest(snapshot, tuple(losses))


def _plain(row: dict) -> dict:
    """A list row as JSON-ready Python values (missing values as None)."""
    out = {}
    for key, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        missing = value is pd.NA or (isinstance(value, float) and np.isnan(value))
        out[key] = None if missing else value
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
