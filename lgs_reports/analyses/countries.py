"""Sales by country: share of the total and change against the comparison span."""

from __future__ import annotations

import dataclasses

import pandas as pd


@dataclasses.dataclass(frozen=True)
class CountryRow:
    country: str
    net: float
    share: float | None  # of total net sales
    previous_net: float | None  # in the comparison span (like-for-like)
    change: float | None  # relative change; None when there were no sales then
    placed_orders: int
    active_customers: int
    countries: int = 1  # more than one for the "Other" row


@dataclasses.dataclass(frozen=True)
class CountrySales:
    rows: tuple[CountryRow, ...]  # the top countries by net sales, then "Other"
    all_rows: tuple[CountryRow, ...]  # every country, for rules and figures.json
    total_net: float
    previous_total_net: float | None
    countries: int
    comparison: str  # title of the comparison span

    @property
    def total_change(self) -> float | None:
        """Relative change of all countries' net sales; None without a positive base."""
        return _change(self.total_net, self.previous_total_net)


def _change(now: float, before: float | None) -> float | None:
    if before is None or before <= 0:
        return None
    return now / before - 1


def country_sales(
    current: pd.DataFrame, previous: pd.DataFrame, *, top: int, comparison: str
) -> CountrySales:
    total = float(current["net"].sum())
    before = {r.country: float(r.net) for r in previous.itertuples(index=False)}
    previous_total = float(previous["net"].sum()) if len(previous) else None
    rows = [
        CountryRow(
            country=str(r.country),
            net=float(r.net),
            share=float(r.net) / total if total else None,
            previous_net=before.get(r.country),
            change=_change(float(r.net), before.get(r.country)),
            placed_orders=int(r.placed_orders),
            active_customers=int(r.active_customers),
        )
        for r in current.itertuples(index=False)
    ]
    rows.sort(key=lambda r: (-r.net, r.country))
    shown = rows[:top]
    rest = rows[top:]
    if rest:
        net = sum(r.net for r in rest)
        # the rest, and the countries that sold then but not now
        prev = (previous_total or 0.0) - sum(r.previous_net or 0.0 for r in shown)
        shown.append(
            CountryRow(
                country=f"Other ({len(rest)} countries)",
                net=net,
                share=net / total if total else None,
                previous_net=prev if previous_total is not None else None,
                change=_change(net, prev),
                placed_orders=sum(r.placed_orders for r in rest),
                active_customers=sum(r.active_customers for r in rest),
                countries=len(rest),
            )
        )
    return CountrySales(
        rows=tuple(shown),
        all_rows=tuple(rows),
        total_net=total,
        previous_total_net=previous_total,
        countries=len(rows),
        comparison=comparison,
    )
