"""Properties of the analyses that must hold for any data (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lgs_reports.analyses.kpis import headline_kpis, totals_from
from lgs_reports.analyses.segments import LOSS_ORDERED, CustomerFacts, score, segments
from lgs_reports.analyses.trend import monthly_trend
from lgs_reports.config import SEGMENTS
from lgs_reports.periods import Coverage, parse_period

FAST = settings(max_examples=60, deadline=None)


def quintile(values: list[float], higher_is_better: bool) -> list[int]:
    """BRIEF_SPEC's quintile written out plainly: 1 + floor(5 * w / n), w = strictly worse."""
    n = len(values)
    return [
        1 + 5 * sum(1 for w in values if (w < v if higher_is_better else w > v)) // n
        for v in values
    ]


customers = st.lists(
    st.tuples(
        st.integers(0, 364),  # recency
        st.integers(1, 40),  # frequency
        st.floats(-500, 50_000, allow_nan=False).map(lambda v: round(v, 2)),  # monetary
        st.sampled_from(["United Kingdom", "France", "Germany"]),
    ),
    min_size=0,
    max_size=60,
)


def value_table(rows, first_id: int = 10_000) -> pd.DataFrame:
    ids = [first_id + i for i in range(len(rows))]
    recency = [r[0] for r in rows]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "country": [r[3] for r in rows],
            "first_purchase": [
                dt.date(2011, 12, 1) - dt.timedelta(days=r + 30 * (i % 20))
                for i, r in enumerate(recency)
            ],
            "last_purchase": [dt.date(2011, 12, 1) - dt.timedelta(days=r) for r in recency],
            "recency": recency,
            "frequency": [r[1] for r in rows],
            "monetary": [r[2] for r in rows],
        }
    )


@FAST
@given(rows=customers, shuffle=st.randoms(use_true_random=False))
def test_scores_are_quintiles_in_which_ties_share_a_score(rows, shuffle):
    table = value_table(rows).sample(frac=1, random_state=shuffle.randint(0, 2**31))
    scored = score(table)
    assert scored["r"].tolist() == quintile(table["recency"].tolist(), higher_is_better=False)
    assert scored["f"].tolist() == quintile(table["frequency"].tolist(), higher_is_better=True)
    assert scored["m"].tolist() == quintile(table["monetary"].tolist(), higher_is_better=True)
    # no score depends on customer ids or on row order
    renumbered = table.assign(customer_id=table["customer_id"].to_numpy()[::-1])
    assert score(renumbered)[["r", "f", "m"]].equals(scored[["r", "f", "m"]])
    # and the SQL the spec gives, on a real engine
    with duckdb.connect() as con:
        con.register("v", table)
        sql = con.execute(
            "SELECT customer_id, "
            "1 + floor(5 * (rank() OVER (ORDER BY recency DESC) - 1) / count(*) OVER ()), "
            "1 + floor(5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER ()), "
            "1 + floor(5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER ()) FROM v"
        ).fetchall()
    by_id = scored.set_index("customer_id")
    assert all(
        (by_id.at[c, "r"], by_id.at[c, "f"], by_id.at[c, "m"]) == (r, f, m) for c, r, f, m in sql
    )


def facts_of(values: pd.DataFrame, spent_before: list[float]) -> CustomerFacts:
    """What the action lists add, for these customers: the spend of the window before (as
    many values as customers, repeated), no products and no suggestions."""
    ids = values["customer_id"].tolist()
    previous = [spent_before[i % len(spent_before)] for i in range(len(ids))]
    return CustomerFacts(
        orders=pd.DataFrame(
            {
                "customer_id": ids,
                "previous_monetary": previous,
                "days_between": [None] * len(ids),
                "last_order_value": values["monetary"].abs().tolist(),
            }
        ),
        top_products=pd.DataFrame(
            columns=["customer_id", "rank", "stock_code", "description", "net"]
        ),
        suggestions=pd.DataFrame(
            columns=["customer_id", "stock_code", "description", "paired_with", "support"]
        ),
        previous_covered=True,
        min_support=3,
        pool_size=100,
    )


@FAST
@given(
    now=customers,
    before=customers,
    spent_before=st.lists(st.floats(0, 60_000).map(lambda v: round(v, 2)), min_size=1),
)
def test_segment_counts_add_up_to_the_customers_scored(now, before, spent_before):
    values = value_table(now)
    result = segments(
        values,
        value_table(before, first_id=10_020),
        snapshot=dt.date(2011, 12, 1),
        previous_snapshot=dt.date(2011, 11, 1),
        window_days=365,
        action_for=lambda s: f"do {s}",
        priority=("Champions", "At Risk"),
        top_rows=5,
        facts=facts_of(values, spent_before),
    )
    assert sum(s.customers for s in result.summary) == len(now) == result.customers
    assert [s.segment for s in result.summary] == list(SEGMENTS)
    assert round(sum(s.monetary for s in result.summary), 2) == round(sum(r[2] for r in now), 2)
    # the migration matrix holds every current customer once, plus the lapsed ones
    counts = result.migration.counts
    current_total = sum(sum(row[:-1]) for row in counts)
    lapsed = sum(row[-1] for row in counts)
    assert current_total == len(now)
    ids_now = {10_000 + i for i in range(len(now))}
    ids_before = {10_020 + i for i in range(len(before))}
    assert lapsed == len(ids_before - ids_now)
    # the CSVs together list everyone once, beside one workbook
    files = result.list_files()
    csvs = [content for name, content in files.items() if name.endswith(".csv")]
    assert len(csvs) == 10 and "segments/action-lists.xlsx" in files
    assert sum(content.decode().count("\n") - 1 for content in csvs) == len(now)
    # each list in its order (ties by customer id), everyone flagged who spent nothing net
    for segment in SEGMENTS:
        rows = result.list_of(segment)
        key = "spend_lost" if segment in LOSS_ORDERED else "monetary"
        order = list(zip(-rows[key], rows["customer_id"], strict=True))
        assert order == sorted(order)
        assert (rows["do_not_mail"] == (rows["monetary"] <= 0)).all()
        assert (rows["action"] == f"do {segment}").all()


months = st.lists(
    st.tuples(
        st.floats(0, 2e6, allow_nan=False),  # gross
        st.floats(-1e5, 0, allow_nan=False),  # cancellations
        st.integers(0, 4000),  # placed orders
        st.integers(0, 500),  # cancelled orders
        st.integers(0, 2000),  # active
        st.floats(0, 1),  # share of active who are new
    ),
    min_size=1,
    max_size=30,
)


@FAST
@given(rows=months, last_day=st.integers(1, 28))
def test_monthly_series_add_up(rows, last_day):
    start = dt.date(2009, 12, 1)
    index = pd.date_range(start, periods=len(rows), freq="MS")
    frame = pd.DataFrame(
        {
            "month": index,
            "gross": [round(r[0], 2) for r in rows],
            "cancellations": [round(r[1], 2) for r in rows],
            "net": [round(r[0], 2) + round(r[1], 2) for r in rows],
            "product_cancelled": [round(r[1], 2) / 2 for r in rows],
            "fee_value": [round(r[1], 2) / 4 for r in rows],
            "correction_value": [round(r[1], 2) / 4 for r in rows],
            "placed_orders": [r[2] for r in rows],
            "cancelled_orders": [r[3] for r in rows],
            "active_customers": [r[4] for r in rows],
            "new_customers": [int(r[4] * r[5]) for r in rows],
            "guest_gross": [0.0 for _ in rows],
        }
    )
    last = index[-1].date()
    period = parse_period(f"{last:%Y-%m}")
    trend = monthly_trend(
        frame,
        Coverage(period, dt.datetime(2009, 12, 1), dt.datetime(last.year, last.month, last_day)),
    )
    for month in trend.months:
        assert round(month.net, 2) == round(month.gross + month.cancellations, 2)
        assert month.new_customers + month.existing_customers == month.active_customers
        assert month.existing_customers >= 0
        assert month.growth is None or not month.partial
    assert trend.months[0].left_censored and not any(m.left_censored for m in trend.months[1:])
    assert [m.lookback_months for m in trend.months] == list(range(len(rows)))
    assert [m.short_lookback for m in trend.months] == [i < 12 for i in range(len(rows))]


@FAST
@given(
    gross=st.floats(0, 1e7, allow_nan=False),
    cancellations=st.floats(-1e6, 0, allow_nan=False),
    placed=st.integers(0, 10_000),
    cancelled=st.integers(0, 2_000),
    active=st.integers(0, 5_000),
    new_share=st.floats(0, 1),
)
def test_headline_kpis_are_consistent(gross, cancellations, placed, cancelled, active, new_share):
    def frame(scale: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "gross": [gross * scale],
                "cancellations": [cancellations * scale],
                "net": [gross * scale + cancellations * scale],
                "order_gross": [gross * scale],
                "placed_orders": [placed],
                "product_cancelled": [cancellations * scale / 2],
                "product_lines": [cancelled],
                "cancelled_orders": [cancelled],
                "fee_value": [cancellations * scale / 2],
                "fee_lines": [1],
                "correction_value": [0.0],
                "correction_lines": [0],
                "zero_invoices": [0],
                "corrected_invoices": [0],
                "largest_cancelled": [cancellations * scale / 4],
                "active_customers": [active],
                "new_customers": [int(active * new_share)],
                "guest_gross": [gross * scale / 4],
            }
        )

    first, last = dt.datetime(2009, 12, 1), dt.datetime(2011, 12, 31, 18, 0)
    coverage = Coverage(parse_period("2011"), first, last)
    comparisons = {c.key: c for c in coverage.comparisons()}
    totals = {"current": totals_from(frame(1.0)), "yoy": totals_from(frame(0.5))}
    kpis = {k.key: k for k in headline_kpis(totals, comparisons, {}, coverage.current)}
    t = totals["current"]
    assert kpis["net_sales"].value == t.gross + t.cancellations
    assert kpis["cancelled_value"].value == -t.product_cancelled
    assert t.new_customers + t.existing_customers == t.active_customers
    if placed + cancelled:
        assert 0 <= kpis["cancellation_rate"].value <= 1
    yoy = kpis["net_sales"].comparison("yoy")
    if yoy.value and yoy.value > 0:
        assert abs(yoy.change - (kpis["net_sales"].value / yoy.value - 1)) < 1e-9
    # without counts on equal look-back, new customers are not compared
    assert not kpis["new_customers"].comparison("yoy").available
