"""The recommend step: rules over the measured figures, each quoting its evidence.

A rule fires only on evidence in this period's numbers and says what revenue
is at stake, computed from those numbers (the formula is in its docstring and
in the brief's method section). Recommendations are ordered by revenue at stake.
Nothing here is written in advance: a rule that finds no evidence says nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from lgs_reports.analyses.segments import LAPSED
from lgs_reports.analysis import Analysis
from lgs_reports.formatting import (
    change,
    date,
    join_names,
    money_short,
    month,
    number,
    percent,
)

PEAK_MONTHS = 3  # the season is the three calendar months with the highest average net sales
COUNTRY_MIN_SHARE = 0.01  # countries below 1% of sales are too small to act on alone
COUNTRY_SWING = 0.20  # a country that grew or fell by 20% or more
CANCELLATION_RATE_ALERT = 0.10
OFF_PEAK_LIFT = 0.10  # the lift a campaign is assumed to win in a weak month


@dataclasses.dataclass(frozen=True)
class Recommendation:
    key: str
    title: str
    text: str  # what to do, with the numbers
    evidence: str  # the measured facts the rule fired on
    at_stake: float  # GBP
    basis: str  # how at_stake was computed
    rank: int = 0


Rule = Callable[[Analysis], Recommendation | None]


def win_back_cant_lose(a: Analysis) -> Recommendation | None:
    """Can't Lose: frequent buyers gone quiet. At stake: their net sales in the RFM window."""
    s = a.segments.summary_of("Can't Lose")
    if not s.customers:
        return None
    return Recommendation(
        key="win_back_cant_lose",
        title="Win back the Can't Lose customers",
        text=(
            f"Have account managers call the {number(s.customers)} Can't Lose customers with a "
            f"personal win-back offer. They bought {s.avg_frequency:.1f} times each in the last "
            f"{a.segments.window_days} days but have not ordered for {s.avg_recency:.0f} days on "
            "average; the largest are listed in the Segments section and in cant-lose.csv."
        ),
        evidence=(
            f"{number(s.customers)} customers, {money_short(s.monetary)} net sales in the "
            f"{a.segments.window_days} days to {date(a.segments.snapshot)}, "
            f"average recency {s.avg_recency:.0f} days"
        ),
        at_stake=s.monetary,
        basis="their net sales in the RFM window",
    )


def reactivate_at_risk(a: Analysis) -> Recommendation | None:
    """At Risk: once regular, now lapsing. At stake: their net sales in the RFM window."""
    s = a.segments.summary_of("At Risk")
    if not s.customers:
        return None
    migration = a.segments.migration
    slipped = sum(migration.count(before, "At Risk") for before in ("Champions", "Loyal Customers"))
    evidence = (
        f"{number(s.customers)} customers, {money_short(s.monetary)} net sales in the window, "
        f"average recency {s.avg_recency:.0f} days"
    )
    if slipped:
        evidence += f"; {number(slipped)} of them were Champions or Loyal Customers a period ago"
    return Recommendation(
        key="reactivate_at_risk",
        title="Reactivate the At Risk customers",
        text=(
            f"Send the {number(s.customers)} At Risk customers a personalised reactivation offer "
            "built on what they bought before, and check in on service; start with the largest "
            "(at-risk.csv)."
        ),
        evidence=evidence,
        at_stake=s.monetary,
        basis="their net sales in the RFM window",
    )


def keep_champions(a: Analysis) -> Recommendation | None:
    """Champions: at stake is their revenue times the share of last period's Champions who
    slipped below Loyal Customers (or lapsed) since."""
    s = a.segments.summary_of("Champions")
    if not s.customers:
        return None
    migration = a.segments.migration
    row = migration.counts[migration.rows.index("Champions")]
    before = sum(row)
    kept = (
        row[migration.columns.index("Champions")] + row[migration.columns.index("Loyal Customers")]
    )
    slip_rate = (before - kept) / before if before else 0.0
    if not before or slip_rate == 0:
        return None
    lapsed = row[migration.columns.index(LAPSED)]
    return Recommendation(
        key="keep_champions",
        title="Keep the Champions",
        text=(
            f"Reward the {number(s.customers)} Champions ({percent(s.share_customers)} of "
            f"customers, {percent(s.share_monetary)} of net sales): early access to new ranges, "
            "loyalty pricing, and a request for referrals."
        ),
        evidence=(
            f"{number(before - kept)} of last period's {number(before)} Champions "
            f"({percent(slip_rate)}) slipped below Loyal Customers"
            + (f", {number(lapsed)} of them stopped buying" if lapsed else "")
            + f"; Champions hold {money_short(s.monetary)} of net sales in the window"
        ),
        at_stake=s.monetary * slip_rate,
        basis="Champions' net sales in the window times last period's slip rate",
    )


def new_customer_acquisition(a: Analysis) -> Recommendation | None:
    """Fewer new customers than a year earlier. At stake: the shortfall times what a new
    customer bought in the period."""
    now = a.totals["current"]
    kpi = a.kpi("new_customers").comparison("yoy")
    if kpi is None or kpi.value is None or now.new_customers >= kpi.value or not now.new_customers:
        return None
    shortfall = int(kpi.value) - now.new_customers
    per_customer = now.new_customer_net / now.new_customers
    span = a.dataset.spans
    caveat = ""
    basis = "missing new customers times the period's net sales per new customer"
    first = a.dataset.coverage.first_data.date()
    if (span["yoy"].start - first).days < 365:
        basis += (
            f"; an upper bound, since {kpi.title}'s new customers include returning ones "
            "(less than a year of earlier data)"
        )
        caveat = (
            f"; {kpi.title} has less than a year of earlier data (from {date(first)}), so "
            "some of its new customers were returning ones and the fall is overstated"
        )
    return Recommendation(
        key="new_customer_acquisition",
        title="Win more new customers",
        text=(
            f"Acquisition fell: {number(now.new_customers)} new customers against "
            f"{number(kpi.value)} a year earlier. Fund a trade-show and wholesale-directory "
            "campaign and an onboarding offer for first orders; each new customer brought "
            f"{money_short(per_customer)} in the period."
        ),
        evidence=(
            f"{number(now.new_customers)} new customers in {span['current'].title} vs "
            f"{number(kpi.value)} in {kpi.title} ({change(kpi.change)}); new customers' net "
            f"sales {money_short(now.new_customer_net)}{caveat}"
        ),
        at_stake=shortfall * per_customer,
        basis=basis,
    )


def off_peak_weakness(a: Analysis) -> Recommendation | None:
    """Off-peak months that fell against the same month a year earlier. At stake: the sum of
    those shortfalls, or, when none fell, a 10% lift of the off-peak months.

    Only complete months count. The first month of data is left-censored for customers
    (everyone looks new) but its net sales are whole, so it is compared like any other."""
    months = [m for m in a.trend.months if not m.partial]
    if len(months) < 13:
        return None
    by_calendar: dict[int, list[float]] = {}
    for m in months:
        by_calendar.setdefault(m.month.month, []).append(m.net)
    average = {k: sum(v) / len(v) for k, v in by_calendar.items()}
    peak = sorted(average, key=lambda k: -average[k])[:PEAK_MONTHS]
    net_of = {m.month: m.net for m in months}
    last12 = months[-12:]
    off_peak = [m for m in last12 if m.month.month not in peak]
    falls = []
    unmatched = []  # no complete month with positive sales a year earlier to compare with
    for m in off_peak:
        before = net_of.get(m.month.replace(year=m.month.year - 1))
        if before is None or before <= 0:
            unmatched.append(m)
        elif m.net < before:
            falls.append((m, m.net / before - 1, before - m.net))
    season_share = sum(m.net for m in last12 if m.month.month in peak) / sum(m.net for m in last12)
    peak_names = "–".join(month(f"2000-{k:02d}-01")[:3] for k in sorted(peak))
    if falls:
        listed = ", ".join(f"{month(m.month)} {change(g)}" for m, g, _ in falls)
        if unmatched:
            listed += (
                f"; not compared, no complete month a year earlier: "
                f"{', '.join(month(m.month) for m in unmatched)}"
            )
        return Recommendation(
            key="off_peak_weakness",
            title="Lift the off-peak months",
            text=(
                f"{len(falls)} of the {len(off_peak)} off-peak months of the last year sold less "
                "than a year before. Plan campaigns for them (spring and summer ranges, "
                "wholesale pre-orders for the season) instead of relying on "
                f"{peak_names}, which made {percent(season_share)} of the year's net sales."
            ),
            evidence=f"off-peak months below the year before: {listed}",
            at_stake=sum(loss for _, _, loss in falls),
            basis="sum of the off-peak months' shortfalls against the same month a year earlier",
        )
    if season_share < 0.30:
        return None
    off_total = sum(m.net for m in off_peak)
    return Recommendation(
        key="off_peak_weakness",
        title="Lift the off-peak months",
        text=(
            f"The season ({peak_names}) made {percent(season_share)} of the last twelve months' "
            "net sales. Campaigns in the off-peak months would spread the load; a 10% lift "
            f"there is worth {money_short(off_total * OFF_PEAK_LIFT)}."
        ),
        evidence=(
            f"{percent(season_share)} of net sales in three months; off-peak months "
            f"{money_short(off_total)}"
        ),
        at_stake=off_total * OFF_PEAK_LIFT,
        basis="10% of the off-peak months' net sales",
    )


def country_opportunities(a: Analysis) -> Recommendation | None:
    """Countries outside the UK growing fast. At stake: their growth in net sales."""
    c = a.countries
    growing = [
        r
        for r in c.all_rows
        if r.country != "United Kingdom"
        and r.change is not None
        and r.change >= COUNTRY_SWING
        and r.share is not None
        and r.share >= COUNTRY_MIN_SHARE
    ]
    if not growing:
        return None
    growing.sort(key=lambda r: (-(r.change or 0), r.country))  # fastest first
    listed = ", ".join(
        f"{r.country} {change(r.change)} ({money_short(r.net)})" for r in growing[:5]
    ) + _more(len(growing) - 5)
    gain = sum(r.net - (r.previous_net or 0) for r in growing)
    among = (
        f"countries outside the United Kingdom with at least {percent(COUNTRY_MIN_SHARE, 0)} "
        f"of net sales in {a.dataset.spans['current'].title}"
    )
    return Recommendation(
        key="country_opportunities",
        title="Invest where countries are growing",
        text=(
            f"Of the {among}, {join_names([r.country for r in growing[:5]])} grew fastest against "
            f"{c.comparison}. Give their customers local-language catalogues, delivery offers "
            "and a sales contact."
        ),
        evidence=f"among {among}, growing by {percent(COUNTRY_SWING, 0)} or more: {listed}",
        at_stake=gain,
        basis="the growing countries' increase in net sales against the comparison span",
    )


def _more(n: int) -> str:
    return f" and {number(n)} more" if n > 0 else ""


def country_declines(a: Analysis) -> Recommendation | None:
    """Countries that fell sharply. At stake: the net sales they lost."""
    c = a.countries
    falling = [
        r
        for r in c.all_rows
        if r.change is not None
        and r.change <= -COUNTRY_SWING
        and r.previous_net
        and c.previous_total_net
        and r.previous_net / c.previous_total_net >= COUNTRY_MIN_SHARE
    ]
    if not falling:
        return None
    falling.sort(key=lambda r: r.net - (r.previous_net or 0))
    listed = ", ".join(f"{r.country} {change(r.change)}" for r in falling[:5]) + _more(
        len(falling) - 5
    )
    lost = sum((r.previous_net or 0) - r.net for r in falling)
    among = (
        f"countries with at least {percent(COUNTRY_MIN_SHARE, 0)} of net sales in {c.comparison}"
    )
    return Recommendation(
        key="country_declines",
        title="Find out why some countries fell",
        text=(
            f"Of the {among}, sales fell sharply in {listed}. Ask their largest customers why "
            "(price, delivery, competition) before the next season."
        ),
        evidence=f"among {among}, down {percent(COUNTRY_SWING, 0)} or more: {listed}",
        at_stake=lost,
        basis="the net sales these countries lost against the comparison span",
    )


def cancellations(a: Analysis) -> Recommendation | None:
    """Cancellation rate above 10% or rising. At stake: the value cancelled in the period."""
    kpi = a.kpi("cancellation_rate")
    rate = kpi.value
    yoy = kpi.comparison("yoy")
    rising = yoy is not None and yoy.change is not None and yoy.change > 0.01
    if rate is None or (rate < CANCELLATION_RATE_ALERT and not rising):
        return None
    value = -a.totals["current"].cancellations
    trend = ""
    if yoy is not None and yoy.value is not None:
        trend = f" ({percent(yoy.value)} in {yoy.title})"
    return Recommendation(
        key="cancellations",
        title="Cut cancellations",
        text=(
            f"{percent(rate)} of orders were cancelled{trend}, worth {money_short(value)}. "
            "Review the most cancelled products and customers for stock-outs, delivery "
            "promises and order-entry errors."
        ),
        evidence=(
            f"{number(a.totals['current'].cancelled_orders)} cancelled orders of "
            f"{number(a.totals['current'].placed_orders + a.totals['current'].cancelled_orders)}"
        ),
        at_stake=value,
        basis="the value of the period's cancelled lines",
    )


RULES: tuple[Rule, ...] = (
    off_peak_weakness,
    new_customer_acquisition,
    win_back_cant_lose,
    reactivate_at_risk,
    keep_champions,
    country_opportunities,
    country_declines,
    cancellations,
)


def recommend(analysis: Analysis) -> tuple[Recommendation, ...]:
    """Every rule that fires, ordered by revenue at stake (largest first), ranked from 1."""
    fired = [r for rule in RULES if (r := rule(analysis)) is not None and r.at_stake > 0]
    fired.sort(key=lambda r: (-r.at_stake, r.key))
    return tuple(dataclasses.replace(r, rank=i) for i, r in enumerate(fired, start=1))
