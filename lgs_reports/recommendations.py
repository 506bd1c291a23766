"""The recommend step: rules over the measured figures, each quoting its evidence.

Revenue at stake has one definition for every rule (BRIEF_SPEC, version 2), so
that a month, a quarter and a year brief rank their rules on the same footing:
the net sales of the next 12 months that the finding puts at risk (or could
add) without action, estimated from history, never an upper bound.

- A segment: its customers' net sales in the RFM window times the share of its
  spend that the same segment lost in the following window, measured one
  window earlier (`SegmentBacktest`). Without the data for that back-test the
  rule says it cannot estimate, and ranks last.
- A trend: the change measured over the 365 days to the snapshot against the
  365 days before (complete months for the off-peak rule), net of gains and
  losses, carried forward 12 months. Without those two years of data, no trend
  rule fires.

A rule fires only on a difference larger than its noise: never on a comparison
without equal look-back, on one account (a country that is mostly one customer
becomes a named account action), on one order (one invoice's cancellation, a
correction), or on a month's timing (one month's fall that others offset).
Recommendations are ordered by revenue at stake; nothing here is written in
advance: a rule that finds no evidence says nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

from lgs_reports import segment_names
from lgs_reports.analyses import Analysis
from lgs_reports.analyses.countries import CountryRow
from lgs_reports.analyses.kpis import returning_count
from lgs_reports.formatting import (
    change,
    date,
    join_names,
    money_change,
    money_short,
    month,
    number,
    percent,
)
from lgs_reports.periods import lookback_months

MATERIAL_SHARE = 0.01  # a segment's loss worth a recommendation: 1% of a year's net sales
MIN_CUSTOMERS = 10  # fewer customers in a segment (now or a window earlier) are anecdotes
PEAK_MONTHS = 3  # the season is the three calendar months with the highest average net sales
COUNTRY_MIN_SHARE = 0.01  # countries below 1% of sales are too small to act on alone
COUNTRY_SWING = 0.20  # a country that grew or fell by 20% or more
NOISE_SIGMAS = 2  # a count moves by chance about sqrt(n); beyond 2 sqrt(n) it is a change
LISTED = 5  # names listed in a recommendation's text


@dataclasses.dataclass(frozen=True)
class Recommendation:
    key: str
    title: str
    text: str  # what to do, with the numbers
    evidence: str  # the measured facts the rule fired on
    at_stake: float | None  # GBP over the next 12 months; None: cannot be estimated
    basis: str  # how at_stake was computed
    concerns: float = 0.0  # the net sales the finding is about: orders those without at_stake
    rank: int = 0


Rule = Callable[[Analysis], Iterator[Recommendation]]


# --------------------------------------------------------------------------- segments


def segment_losses(a: Analysis) -> Iterator[Recommendation]:
    """Each segment whose spend history says it will shrink materially next year.

    At stake: the segment's net sales in the window times the share the same segment lost
    in the window after the snapshot one window earlier. Without that back-test, the
    priority segments still get their recommendation, saying it cannot be estimated.
    """
    s = a.segments
    year_net = _year_net(a)
    for segment in segment_names.SEGMENTS:
        now = s.summary_of(segment)
        if now.customers < MIN_CUSTOMERS:
            continue
        named = segment_names.segment(segment)
        csv = now.csv_file.removeprefix("segments/")
        who = (
            f"The {number(now.customers)} {named.customers} {named.behaviour}: "
            f"{money_short(now.monetary)} net sales in the {s.window_days} days to "
            f"{date(s.snapshot)}."
        )
        action = f" {now.action} The customers are listed in {csv}."
        if s.backtest is None:
            if now.priority:
                yield Recommendation(
                    key=f"segment_{named.key}",
                    title=named.title,
                    text=who + action,
                    evidence=(
                        f"{number(now.customers)} customers, {money_short(now.monetary)} net "
                        f"sales in the window; the data does not reach back two windows, so "
                        "what such customers go on to spend cannot be measured yet"
                    ),
                    at_stake=None,
                    basis="cannot be estimated: no back-test, the data starts too late",
                    concerns=now.monetary,
                )
            continue
        then = s.backtest.of(segment)
        share = then.loss_share
        if share is None or then.customers < MIN_CUSTOMERS or share <= 0:
            continue
        at_stake = now.monetary * share
        if year_net is None or at_stake < MATERIAL_SHARE * year_net:
            continue
        yield Recommendation(
            key=f"segment_{named.key}",
            title=named.title,
            text=(
                who + f" The {named.customers} of {date(s.backtest.snapshot)} spent "
                f"{percent(share, 0)} less in the following year; the same loss on today's "
                f"{money_short(now.monetary)} is {money_short(at_stake)}." + action
            ),
            evidence=(
                f"{number(now.customers)} customers, {money_short(now.monetary)} net sales in "
                f"the {s.window_days} days to {date(s.snapshot)}; back-test: the "
                f"{number(then.customers)} {named.customers} of {date(s.backtest.snapshot)} "
                f"spent {money_short(then.window_net)} in the {s.window_days} days before and "
                f"{money_short(then.following_net)} in the {s.window_days} days after "
                f"({change(-share)})"
            ),
            at_stake=at_stake,
            basis=(
                "the segment's net sales in the window times the share of spend the same "
                "segment lost in the following year, measured one year earlier"
            ),
            concerns=now.monetary,
        )


def _year_net(a: Analysis) -> float | None:
    """Net sales of the 365 days to the snapshot: what materiality is measured against."""
    t = a.totals.get("trailing")
    return t.net if t is not None and t.net > 0 else None


# --------------------------------------------------------------------------- trends


def new_customer_acquisition(a: Analysis) -> Iterator[Recommendation]:
    """Fewer new or returning customers over the last 365 days than the 365 before, on
    equal look-back, by more than chance. At stake: the shortfall times what each of this
    year's new or returning customers bought."""
    lookback = a.dataset.lookbacks.get("trailing")
    if lookback is None:
        return
    now, then = returning_count(lookback.current), returning_count(lookback.other)
    shortfall = then - now
    now_net, then_net = (float(f.at[0, "net"]) for f in (lookback.current, lookback.other))
    if now == 0 or shortfall <= NOISE_SIGMAS * math.sqrt(then) or then_net <= now_net:
        return
    per_customer = now_net / now
    last, before = a.dataset.trailing
    assert before is not None
    n = lookback.months
    label = f"new or returning after {_months(n)}"
    yield Recommendation(
        key="new_customer_acquisition",
        title="Win more new customers",
        text=(
            f"Acquisition fell: {number(now)} customers ordered in the last "
            f"{a.dataset.rfm_window_days} days with no order in the {_months(n)} before, "
            f"against {number(then)} a year "
            "earlier. Fund a trade-show and wholesale-directory campaign and an onboarding "
            f"offer for first orders; each of these customers brought {money_short(per_customer)}."
        ),
        evidence=(
            f"{label}: {number(now)} in {last.title} against {number(then)} in {before.title} "
            f"({change(now / then - 1)}), beyond the {number(NOISE_SIGMAS * math.sqrt(then))} "
            f"that chance explains; their net sales {money_short(now_net)} against "
            f"{money_short(then_net)}"
        ),
        at_stake=then_net - now_net,
        basis=(
            f"the fall in net sales from customers {label} over the last year against the "
            "year before, carried forward"
        ),
    )


def off_peak_weakness(a: Analysis) -> Iterator[Recommendation]:
    """Off-peak months of the last 12 complete months that sold less than the same months a
    year earlier, net of the ones that sold more, and not one month's timing: no single
    month makes more than half of the net fall. At stake: the net fall."""
    months = [m for m in a.trend.months if not m.partial and m.month <= a.dataset.period.end]
    if len(months) < 24:
        return
    by_calendar: dict[int, list[float]] = {}
    for m in months:
        by_calendar.setdefault(m.month.month, []).append(m.net)
    average = {k: sum(v) / len(v) for k, v in by_calendar.items()}
    peak = sorted(average, key=lambda k: (-average[k], k))[:PEAK_MONTHS]
    net_of = {m.month: m.net for m in months}
    last12 = months[-12:]
    changes = []
    for m in last12:
        if m.month.month in peak:
            continue
        before = net_of.get(m.month.replace(year=m.month.year - 1))
        if before is not None and before > 0:
            changes.append((m, before, m.net - before))
    if not changes:
        return
    net_change = sum(c for *_, c in changes)
    worst = min(c for *_, c in changes)
    if net_change >= 0 or worst < net_change / 2:
        return  # no fall, or a fall that is mostly one month: timing, not a trend
    falls = [(m, c / before) for m, before, c in changes if c < 0]
    season = sum(m.net for m in last12 if m.month.month in peak)
    season_share = season / sum(m.net for m in last12)
    peak_names = "–".join(month(f"2000-{k:02d}-01")[:3] for k in sorted(peak))
    listed = ", ".join(f"{month(m.month)} {change(g)}" for m, g in falls)
    yield Recommendation(
        key="off_peak_weakness",
        title="Lift the off-peak months",
        text=(
            f"{len(falls)} of the {len(changes)} off-peak months of the last twelve sold less "
            f"than a year before, {money_short(-net_change)} in all once the months that grew "
            "are counted. Plan campaigns for them (spring and summer ranges, wholesale "
            f"pre-orders for the season) instead of relying on {peak_names}, which made "
            f"{percent(season_share)} of the twelve months' net sales."
        ),
        evidence=(
            f"off-peak months against the same month a year earlier: {listed}; net of the "
            f"months that grew {money_change(net_change)}, of which the largest single month "
            f"{money_change(worst)}"
        ),
        at_stake=-net_change,
        basis=(
            "the net fall of the off-peak months of the last twelve complete months against "
            "the same months a year earlier, carried forward a year"
        ),
    )


def cancellations(a: Analysis) -> Iterator[Recommendation]:
    """Product cancellations that rose over the last 365 days against the 365 before, by
    more than the largest single invoice's cancellation (not one order). Fees, adjustments
    and corrections are not cancellations. At stake: the rise, carried forward."""
    now, then = a.totals.get("trailing"), a.totals.get("trailing_before")
    if now is None or then is None:
        return
    rise = now.cancelled_value - then.cancelled_value
    largest = -now.largest_cancelled
    if rise <= 0 or rise <= largest:
        return
    last, before = a.dataset.trailing
    assert before is not None
    yield Recommendation(
        key="cancellations",
        title="Cut cancellations",
        text=(
            f"Customers cancelled {money_short(now.cancelled_value)} of products in the last "
            f"{a.dataset.rfm_window_days} days, {money_short(rise)} more than a year earlier "
            f"({percent(now.cancellation_rate)} of orders). Review the most cancelled products "
            "and customers for stock-outs, delivery promises and order-entry errors."
        ),
        evidence=(
            f"product cancellations {money_short(now.cancelled_value)} in {last.title} against "
            f"{money_short(then.cancelled_value)} in {before.title}; "
            f"{number(now.cancelled_orders)} cancelled orders; the largest single invoice "
            f"cancelled {money_short(largest)}; "
            "fees, adjustments and corrections of keying errors are not counted"
        ),
        at_stake=rise,
        basis="the rise in product cancellations over the last 365 days, carried forward a year",
    )


def _country_swings(a: Analysis) -> tuple[list[CountryRow], list[CountryRow], list[CountryRow]]:
    """Countries outside the UK with at least 1% of sales that moved by 20% or more over
    the last 365 days: (growing markets, falling markets, moves that are one account)."""
    c = a.trailing_countries
    if c is None or c.previous_total_net is None:
        return [], [], []
    growing, falling, accounts = [], [], []
    for r in c.all_rows:
        if r.country == "United Kingdom" or r.previous_net is None:
            continue
        big = (r.share or 0) >= COUNTRY_MIN_SHARE or (
            c.previous_total_net > 0 and r.previous_net / c.previous_total_net >= COUNTRY_MIN_SHARE
        )
        moved = r.change is not None and abs(r.change) >= COUNTRY_SWING
        if not big or not moved:
            continue
        if r.is_account:
            accounts.append(r)
        elif (r.change or 0) > 0:
            growing.append(r)
        else:
            falling.append(r)
    return growing, falling, accounts


def country_opportunities(a: Analysis) -> Iterator[Recommendation]:
    """Markets outside the UK that grew by 20% or more over the last 365 days, not on one
    account. At stake: their growth, carried forward."""
    growing, _, _ = _country_swings(a)
    if not growing:
        return
    c = a.trailing_countries
    assert c is not None
    growing.sort(key=lambda r: (-(r.change or 0), r.country))
    shown = growing[:LISTED]
    listed = ", ".join(
        f"{r.country} {change(r.change)} ({money_change(r.change_amount)})" for r in shown
    ) + _more(len(growing) - LISTED)
    among = _among(a)
    yield Recommendation(
        key="country_opportunities",
        title="Invest where markets are growing",
        text=(
            f"{join_names([r.country for r in shown])} grew fastest of the {among}, with no "
            "single customer behind most of it. Give their customers local-language "
            "catalogues, delivery offers and a sales contact."
        ),
        evidence=f"among {among}, growing by {percent(COUNTRY_SWING, 0)} or more: {listed}",
        at_stake=sum(r.change_amount or 0 for r in growing),
        basis="the growing markets' rise in net sales over the last 365 days, carried forward",
    )


def country_declines(a: Analysis) -> Iterator[Recommendation]:
    """Markets that fell by 20% or more over the last 365 days, not on one account. At
    stake: what they lost, carried forward."""
    _, falling, _ = _country_swings(a)
    if not falling:
        return
    falling.sort(key=lambda r: (r.change_amount or 0, r.country))
    listed = ", ".join(
        f"{r.country} {change(r.change)} ({money_change(r.change_amount)})"
        for r in falling[:LISTED]
    ) + _more(len(falling) - LISTED)
    among = _among(a)
    yield Recommendation(
        key="country_declines",
        title="Find out why some markets fell",
        text=(
            f"Of the {among}, sales fell sharply in {listed}, across several customers. Ask "
            "their largest customers why (price, delivery, competition) before the next season."
        ),
        evidence=f"among {among}, down {percent(COUNTRY_SWING, 0)} or more: {listed}",
        at_stake=-sum(r.change_amount or 0 for r in falling),
        basis="the falling markets' loss of net sales over the last 365 days, carried forward",
    )


def account_swings(a: Analysis) -> Iterator[Recommendation]:
    """Countries whose swing is mostly one customer: accounts to call, not markets. At stake:
    what the accounts that fell lost over the last 365 days, carried forward (what winning
    them back is worth); the accounts that grew are named to secure, not counted."""
    _, _, accounts = _country_swings(a)
    accounts = [r for r in accounts if r.mover is not None]
    if not accounts:
        return
    accounts.sort(key=lambda r: (-abs(r.mover_change), r.country))
    shown = accounts[:LISTED]
    calls = [
        f"account {r.mover} in {r.country} ({money_change(r.mover_change)} of the country's "
        f"{money_change(r.change_amount)})"
        for r in shown
    ]
    falls = [r for r in accounts if r.mover_change < 0]
    evidence = "; ".join(
        f"{r.country} {change(r.change)}: account {r.mover} {money_change(r.mover_change)} of "
        f"the country's {money_change(r.change_amount)}"
        + (
            f"; its biggest customer, {r.top_customer}, makes "
            f"{percent(r.top_customer_share, 0)} of its sales"
            if r.top_customer_share
            else ""
        )
        for r in shown
    ) + _more(len(accounts) - LISTED)
    yield Recommendation(
        key="account_swings",
        title="Call the accounts behind country swings",
        text=(
            f"In {join_names([r.country for r in shown])} one customer made most of the change "
            "over the last year: these are accounts to call, not markets to invest in. Call "
            f"{join_names(calls)}: "
            + ("ask the ones that fell why, and " if falls else "")
            + "secure the next orders of the ones that grew."
        ),
        evidence=(
            f"{a.dataset.trailing[0].title} against the year before, countries with at least "
            f"1% of net sales that moved by {percent(COUNTRY_SWING, 0)} or more: " + evidence
        ),
        at_stake=-sum(r.mover_change for r in falls) if falls else None,
        basis=(
            "what the accounts that fell lost over the last year, carried forward: what "
            "winning them back is worth; the accounts that grew are not counted"
            if falls
            else "cannot be estimated: these accounts grew, and what keeping them is worth "
            "has no measured history"
        ),
        concerns=sum(abs(r.mover_change) for r in accounts),
    )


SLIP_SHARE = 0.30  # a big account whose net sales fell by 30% or more is slipping
SLIP_MATERIAL = 0.0025  # ... and by at least 0.25% of a year's net sales
NEW_SHARE = 0.05  # new products worth a recommendation: 5% of a year's net sales


def slipping_accounts(a: Analysis) -> Iterator[Recommendation]:
    """Big accounts of the year before (the top 10% by net sales) whose net sales fell by 30%
    or more over the last 365 days, each by at least 0.25% of a year's net sales; accounts
    already named for a country swing are left to that rule.

    At stake, next 12 months: what the accounts still buying would lose if their spend kept
    falling at the rate it fell (their last year's net sales times that rate), never more
    than they still spend. An account that has stopped buying has nothing left to lose: it
    is named as one to win back, with no amount at stake."""
    table, year_net = a.trailing_customers, _year_net(a)
    if table is None or year_net is None or a.dataset.trailing[1] is None:
        return
    before = table[table["previous_orders"] > 0].sort_values(
        ["previous_net", "customer_id"], ascending=[False, True]
    )
    big = before.head(math.ceil(0.1 * len(before)))
    named = {r.mover for r in _country_swings(a)[2]}
    big = big.assign(fall=big["previous_net"] - big["net"])
    slipping = big[
        (big["fall"] >= SLIP_SHARE * big["previous_net"])
        & (big["fall"] >= SLIP_MATERIAL * year_net)
        & ~big["customer_id"].isin(named)
    ]
    if slipping.empty:
        return
    slipping = slipping.sort_values(["fall", "customer_id"], ascending=[False, True])
    shown = slipping.head(LISTED)
    calls = [
        f"{int(r.customer_id)} ({r.country}, {money_short(r.previous_net)} to {money_short(r.net)})"
        for r in shown.itertuples(index=False)
    ]
    last, before_span = a.dataset.trailing
    assert before_span is not None
    buying = slipping[slipping["net"] > 0]
    stopped = len(slipping) - len(buying)
    at_stake = float((buying["net"] * buying["fall"] / buying["previous_net"]).sum())
    if not stopped:
        gone = ""
    elif len(slipping) == 1:
        gone = " It has stopped buying: win it back."
    else:
        gone = f" {number(stopped)} of them {'has' if stopped == 1 else 'have'} stopped buying."
    yield Recommendation(
        key="slipping_accounts",
        title="Call the big accounts that are slipping",
        text=(
            f"{number(len(slipping))} of the {number(len(big))} biggest accounts of the year "
            f"before spent at least {percent(SLIP_SHARE, 0)} less in the last "
            f"{a.dataset.rfm_window_days} days: {join_names(calls)}"
            + _more(len(slipping) - LISTED)
            + f".{gone} Have their account managers call them this month."
        ),
        evidence=(
            f"the top 10% of {before_span.title}'s customers by net sales against "
            f"{last.title}: {number(len(slipping))} fell by {percent(SLIP_SHARE, 0)} or more "
            f"and by {money_short(SLIP_MATERIAL * year_net)} or more, "
            f"{money_short(float(slipping['fall'].sum()))} in all; the "
            f"{number(len(buying))} still buying spent {money_short(float(buying['net'].sum()))}"
            " in the last year"
        ),
        at_stake=at_stake if at_stake > 0 else None,
        basis=(
            "the next 12 months' loss if the accounts still buying keep falling at the rate "
            "they fell (none for those that stopped)"
        ),
    )


def range_falling(a: Analysis) -> Iterator[Recommendation]:
    """The products sold in both of the last two years sold less than the new products of
    the last year made up for, by more than any single product's fall explains. Continuing
    lines fade as new ones replace them; the range is falling only when the new ones do not
    make up for it. At stake: the net fall (continuing lines' fall less new lines' sales),
    carried forward."""
    p = a.trailing_products
    if p is None or p.pvm is None:
        return
    v = p.pvm
    fall = v.previous_value - v.value
    largest = max((-x.change for x in p.fallers if x.change is not None), default=0.0)
    net_fall = fall - p.new_net
    if net_fall <= 0 or largest > fall / 2:
        return
    last, _ = a.dataset.trailing_months
    yield Recommendation(
        key="range_falling",
        title="Review the range that sold less",
        text=(
            f"The {number(v.products)} products sold in both {last.title} and the twelve months "
            "before sold "
            f"{money_short(fall)} less ({change(v.value / v.previous_value - 1)}), and the "
            f"new products made only {money_short(p.new_net)} of it up. Review the range with "
            "the buyers: restock the best sellers that fell, and bring in new lines."
        ),
        evidence=(
            f"value of the products sold in both {last.title} and the year before: "
            f"{money_short(v.value)} against {money_short(v.previous_value)} (units "
            f"{change(v.units / v.previous_units - 1)}, their own prices "
            f"{money_change(v.price)}, mix {money_change(v.mix)}); products first sold in "
            f"the last year {money_short(p.new_net)}; the largest single product's fall "
            f"{money_short(largest)}"
        ),
        at_stake=net_fall,
        basis=(
            "the fall in value of the products sold in both years less what the new products "
            "made, carried forward"
        ),
    )


def new_products(a: Analysis) -> Iterator[Recommendation]:
    """New products made at least 5% of the last year's net sales: restock and extend the
    ones that sell. At stake: what such products did in their second year, measured on the
    products first sold the year before (when the data has a year of earlier data for
    them); otherwise it cannot be estimated."""
    p, year_net = a.trailing_products, _year_net(a)
    if p is None or year_net is None or p.new_lookback_short or p.new_net < NEW_SHARE * year_net:
        return
    last = a.dataset.trailing_months[0]
    second_year = _second_year_change(a)
    listed = ", ".join(
        f"{x.stock_code} {x.description or ''} ({money_short(x.net)})".replace("  ", " ")
        for x in p.new_top
    )
    yield Recommendation(
        key="new_products",
        title="Restock and extend the new products that sell",
        text=(
            f"{number(p.new_codes)} products first sold in {last.title} made "
            f"{money_short(p.new_net)} "
            f"({percent(p.new_net / year_net)} of net sales). Keep the best of them in stock "
            f"and extend their ranges: {listed}."
        ),
        evidence=(
            f"{number(p.new_codes)} product codes first sold in {last.title}, "
            f"{money_short(p.new_net)} net"
            + (
                f"; the products first sold the year before changed "
                f"{change(second_year)} in their second year"
                if second_year is not None
                else "; what new products do in their second year is not measurable yet"
            )
        ),
        at_stake=abs(second_year) * p.new_net if second_year is not None else None,
        basis=(
            "the new products' net sales times how much the year before's new products "
            "changed in their second year"
            if second_year is not None
            else "cannot be estimated: no year of new products with a second year in the data"
        ),
        concerns=p.new_net,
    )


def _second_year_change(a: Analysis) -> float | None:
    """How much the products first sold in the year before the last changed in the last
    year; None without a year of earlier data for them."""
    frame = a.dataset.trailing_products
    before = a.dataset.trailing_months[1]
    if frame is None or before is None:
        return None
    if lookback_months(a.dataset.coverage.first_data, before.start.date()) < 12:
        return None
    cohort = frame[(frame["first_sold"] >= before.start) & (frame["first_sold"] < before.end)]
    then = float(cohort["previous_net"].sum())
    return float(cohort["net"].sum()) / then - 1 if then > 0 else None


def _among(a: Analysis) -> str:
    last = a.dataset.trailing[0]
    return (
        f"countries outside the United Kingdom with at least {percent(COUNTRY_MIN_SHARE, 0)} "
        f"of net sales, {last.title} against the year before"
    )


def _more(n: int) -> str:
    return f" and {number(n)} more" if n > 0 else ""


def _months(n: int) -> str:
    return "1 month" if n == 1 else f"{n} months"


RULES: tuple[Rule, ...] = (
    segment_losses,
    off_peak_weakness,
    new_customer_acquisition,
    country_opportunities,
    country_declines,
    account_swings,
    slipping_accounts,
    range_falling,
    new_products,
    cancellations,
)


def recommend(analysis: Analysis) -> tuple[Recommendation, ...]:
    """Every rule that fires, by revenue at stake (largest first; those that cannot be
    estimated last), ranked from 1."""
    fired = [r for rule in RULES for r in rule(analysis) if r.at_stake is None or r.at_stake > 0]
    fired.sort(key=lambda r: (r.at_stake is None, -(r.at_stake or 0), -r.concerns, r.key))
    return tuple(dataclasses.replace(r, rank=i) for i, r in enumerate(fired, start=1))
