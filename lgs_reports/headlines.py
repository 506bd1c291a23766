"""The headlines of a figures document: the KPI cards, the top recommendations, the story.

The brief's executive summary and the email show the same headlines, written
the same way: one place decides how a KPI's value and each of its changes read
(`formatting.kpi_*`), which way its arrow points and whether that is good or
bad (``higher_is_better``: cancellations up is bad), and which recommendations
come first. `story` tells the figures in three sentences (what happened, why,
what to do) and `subject_fields` in a subject line, for a reader with a minute.
Everything here is read from ``figures.json`` alone, so an archived brief can
be emailed again without the warehouse; what it works out itself (the period's
short name, the biggest KPI move) is labelled as such in each function.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from lgs_reports import formatting
from lgs_reports.periods import add_months

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


# --------------------------------------------------------------------------- the story


@dataclasses.dataclass(frozen=True)
class Story:
    """The brief in three sentences, for a reader with a minute on a phone.

    ``happened``: net sales and their change, with the caveats that apply (a
    partial period, a comparison the data does not allow); ``why``: the biggest
    driver of the growth bridge, or without one the biggest move among the
    headline KPIs; ``action``: the top recommendation and its revenue at stake.
    """

    happened: str
    why: str
    action: str


def story(figures: Mapping[str, Any]) -> Story:
    """The three sentences of a figures document (see `Story`)."""
    return Story(_happened(figures), _why(figures), _action(figures))


def subject_fields(figures: Mapping[str, Any], fallback_period: str) -> dict[str, str]:
    """What ``[email] subject``'s placeholders stand for (`config.SUBJECT_FIELDS`) but
    ``company``: ``period`` (``Nov 2011``; ``2011 (to 9 Dec)`` when partial) and
    ``headline`` (``net sales £1.46m, +2.8% on Nov 2010``; ``…, no comparison``)."""
    period = figures.get("period") or {}
    name = short_period(period) or fallback_period
    return {"period": name + partial_mark(period), "headline": _headline(figures)}


def short_period(period: Mapping[str, Any], months_back: int = 0) -> str:
    """A period as a subject line names it (``Nov 2011``, ``Q4 2011``, ``2011``), or the
    same kind of period ``months_back`` months earlier; empty when the figures lack it."""
    kind, start = period.get("kind"), period.get("start")
    if not start or kind not in ("year", "quarter", "month"):
        return str(period.get("title") or "")
    first = add_months(dt.date.fromisoformat(str(start)[:10]), -months_back)
    if kind == "year":
        return str(first.year)
    if kind == "quarter":
        return f"Q{(first.month - 1) // 3 + 1} {first.year}"
    return f"{first:%b %Y}"


def partial_mark(period: Mapping[str, Any]) -> str:
    """`` (to 9 Dec)`` when the data ends inside the period, `` (from 1 Dec)`` when it starts
    inside it: a subject line must not pass a part of a period off as the whole."""
    if not period.get("partial"):
        return ""
    marks = []
    if period.get("data_start") and period["data_start"] > str(period.get("start", "")):
        first = dt.date.fromisoformat(period["data_start"][:10])
        marks.append(f"from {first.day} {first:%b}")
    if period.get("data_end") and period["data_end"] < str(period.get("end", "")):
        last = dt.date.fromisoformat(period["data_end"][:10])
        marks.append(f"to {last.day} {last:%b}")
    return f" ({' '.join(marks)})" if marks else " (partial)"


def _kpi(figures: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    return next((k for k in figures.get("kpis") or [] if k.get("key") == key), None)


def _compared(kpi: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The comparison a KPI's change is told against: the year before, else the month
    before; None when neither is available. Returns (its key, the comparison)."""
    for key in ("yoy", "mom"):
        c = (kpi.get("comparisons") or {}).get(key)
        if c and c.get("available", True) and c.get("change") is not None:
            return key, c
    return None


def _months_back(key: str) -> int:
    return 12 if key == "yoy" else 1


def _headline(figures: Mapping[str, Any]) -> str:
    net = _kpi(figures, "net_sales")
    if net is None:
        return "the figures are in the PDF"
    text = f"net sales {formatting.kpi_value(net.get('value'), net.get('unit'))}"
    compared = _compared(net)
    if compared is None:
        return text + ", no comparison"
    key, c = compared
    earlier = short_period(figures.get("period") or {}, _months_back(key)) or c["title"]
    return text + f", {formatting.kpi_change(c['change'], net.get('change_kind'))} on {earlier}"


def _happened(figures: Mapping[str, Any]) -> str:
    """``Net sales were £1.46m in November 2011, up 2.8% on November 2010 (£1.42m).``"""
    period = figures.get("period") or {}
    net = _kpi(figures, "net_sales")
    if net is None:
        return f"The brief of {period.get('title') or 'the period'} has no net sales figure."
    spans = {c.get("key"): c for c in figures.get("comparisons") or []}
    span = (spans.get("current") or {}).get("title") or period.get("title") or ""
    unit = net.get("unit")
    text = f"Net sales were {formatting.kpi_value(net.get('value'), unit)} in {span}"
    compared = _compared(net)
    if compared is not None:
        _, c = compared
        text += f", {_movement(c['change'], net.get('change_kind'))} {c['title']}"
        text += f" ({formatting.kpi_value(c.get('value'), unit)})"
    caveats = [
        f"there is no comparison with {c['title']} ({c.get('reason') or 'no data'})"
        for c in spans.values()
        if c.get("key") in ("yoy", "mom") and not c.get("available", True)
    ]
    if period.get("partial") and period.get("partial_note"):
        caveats.append(f"a partial period ({period['partial_note']})")
    return text + "".join(f"; {c}" for c in caveats) + "."


def _movement(change: float, kind: str | None) -> str:
    """``up 2.8% on``, ``down 1.4 pp on``, ``level with``: a change told in words."""
    text = formatting.kpi_change(abs(change), kind)
    if text.startswith("±"):
        return "level with"
    return f"{'up' if change > 0 else 'down'} {text.lstrip('+')} on"


# The markets of the growth bridge's market split, as a sentence names where sales were.
_MARKET_PLACES = {"home": "in the United Kingdom", "abroad": "outside the United Kingdom"}


def _why(figures: Mapping[str, Any]) -> str:
    bridge = figures.get("growth_bridge") or {}
    driver = bridge.get("driver")
    if driver:
        return _bridge_driver(bridge, driver)
    move = _biggest_move(figures)
    if move:
        return move
    return (
        "With nothing to compare it with, the brief cannot yet say what moved sales; "
        "the PDF shows the months' trend."
    )


def _bridge_driver(bridge: Mapping[str, Any], driver: Mapping[str, Any]) -> str:
    """``The biggest driver was sales outside the United Kingdom, up £216k, while sales in
    the United Kingdom fell £39k; two accounts made more than the whole change: 17450
    (+£139k) and 12415 (+£104k).`` (the growth bridge's driver, the rest of its split, and
    the accounts that outweigh the whole change, as the PDF's summary names them)"""

    def place(part: Mapping[str, Any]) -> str:
        return _MARKET_PLACES.get(part.get("key", "")) or f"from {_lower_first(part['label'])}"

    change = driver["change"]
    text = (
        f"The biggest driver was sales {place(driver)}, "
        f"{'up' if change >= 0 else 'down'} {formatting.money_short(abs(change))}"
    )
    split = next((s for s in bridge.get("splits") or [] if s.get("key") == driver["split"]), {})
    for part in split.get("parts") or []:
        if part.get("key") == driver.get("key"):
            continue
        other = part["change"]
        joint = "and" if (other >= 0) == (change >= 0) else "while"
        verb = "rose" if other >= 0 else "fell"
        text += f", {joint} sales {place(part)} {verb} {formatting.money_short(abs(other))}"
    few = bridge.get("few_accounts") or []
    if few:  # as the PDF says: a market's change that is one or two accounts is theirs
        names = " and ".join(
            f"{a['customer_id']} ({formatting.money_change(a['change'])})" for a in few
        )
        count = "one account" if len(few) == 1 else "two accounts"
        text += f"; {count} made more than the whole change: {names}"
    return text + "."


def _biggest_move(figures: Mapping[str, Any]) -> str | None:
    """Without a growth bridge: the headline KPI (net sales aside) whose change is largest,
    relative changes and changes in points alike taken as fractions."""
    moves = []
    for kpi in figures.get("kpis") or []:
        compared = _compared(kpi) if kpi.get("key") != "net_sales" else None
        if compared is not None:
            moves.append((abs(compared[1]["change"]), kpi, compared[1]))
    if not moves:
        return None
    _, kpi, c = max(moves, key=lambda m: m[0])
    tone = formatting.change_tone(c["change"], kpi.get("higher_is_better", True))
    verdict = {"good": ", for the better", "bad": ", for the worse"}.get(tone, "")
    change = formatting.kpi_change(c["change"], kpi.get("change_kind"), kpi.get("unit"))
    return (
        f"The biggest move among the headline figures was in {_lower_first(kpi['label'])}: "
        f"{change} on {c['title']}{verdict}."
    )


def _action(figures: Mapping[str, Any]) -> str:
    top = top_recommendations(figures)
    if not top:
        return "No recommendation: nothing in the figures calls for action."
    first = top[0]
    stake = first.get("at_stake")
    if stake is None:
        return f"{first['title']} (the revenue at stake could not be estimated)."
    return (
        f"{first['title']}: {formatting.money_short(stake)} of the next 12 months' net sales "
        "is at stake."
    )


def _lower_first(text: str) -> str:
    """``Cancelled value`` → ``cancelled value`` mid-sentence; ``UK sales`` stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
