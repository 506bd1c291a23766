"""The headlines of a figures document: the KPI cards and the top recommendations.

The brief's executive summary and the email show the same headlines, written
the same way: one place decides how a KPI's value and each of its changes read
(`formatting.kpi_*`), which way its arrow points and whether that is good or
bad (``higher_is_better``: cancellations up is bad), and which recommendations
come first. Everything here is read from ``figures.json`` alone, so an archived
brief can be emailed again without the warehouse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lgs_reports import formatting

TOP_RECOMMENDATIONS = 3


@dataclasses.dataclass(frozen=True)
class KpiChange:
    """One comparison of a headline KPI, ready to print."""

    title: str  # what it is compared with: "1 Jan – 9 Dec 2010", "October 2011"
    text: str  # "+1.6%" or, for ratios, "−3.0 pp"; "–" when unknown
    previous: str  # the comparison's value, formatted like the KPI
    arrow: str  # ▲ ▼ or ▶
    tone: str  # "good", "bad" or "flat": the arrow's colour, from higher_is_better
    basis: str | None = None  # what the change compares, when not the card's value (new customers)
    available: bool = True  # False: no comparison; the card says so instead of a change


@dataclasses.dataclass(frozen=True)
class KpiCard:
    """A headline KPI of the executive summary."""

    key: str
    label: str
    value: str
    changes: tuple[KpiChange, ...]  # year over year first, then the previous month if any
    note: str | None = None  # a caveat on the value itself


def kpi_cards(figures: Mapping[str, Any]) -> tuple[KpiCard, ...]:
    """Every headline KPI of the figures as a card, in the figures' order.

    With under 12 months of data before the period, "new customers" also
    counts customers back after a gap; their card says so.
    """
    cards = tuple(_kpi_card(k) for k in figures.get("kpis") or [])
    lookback = (figures.get("period") or {}).get("lookback_months")
    if lookback is not None and lookback < 12:  # "new" also counts returning customers
        note = f"includes customers back after a gap: the data starts {lookback} "
        note += "month before" if lookback == 1 else "months before"
        cards = tuple(
            dataclasses.replace(c, note=note) if c.key == "new_customers" else c for c in cards
        )
    return cards


def _kpi_card(k: Mapping[str, Any]) -> KpiCard:
    changes = []
    for key in ("yoy", "mom"):
        c = (k.get("comparisons") or {}).get(key)
        if not c:
            continue
        if not c.get("available", True):
            changes.append(KpiChange(c["title"], "", "", "", "flat", available=False))
            continue
        change = c.get("change")
        changes.append(
            KpiChange(
                title=c["title"],
                text=formatting.kpi_change(change, k["change_kind"], k["unit"]),
                previous=formatting.kpi_value(c.get("value"), k["unit"]),
                arrow=formatting.arrow(change),
                tone=formatting.change_tone(change, k["higher_is_better"]),
                basis=formatting.kpi_basis(c, k["unit"]),
            )
        )
    value = formatting.kpi_value(k["value"], k["unit"])
    return KpiCard(k["key"], k["label"], value, tuple(changes))


def recommendations(figures: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every recommendation, in rank order (1 first)."""
    return sorted(figures.get("recommendations") or [], key=lambda r: r["rank"])


def top_recommendations(figures: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The recommendations the summary and the email lead with: the first few by rank."""
    return recommendations(figures)[:TOP_RECOMMENDATIONS]
