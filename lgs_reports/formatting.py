"""How numbers and dates are written for people: one place for the PDF, the charts and email.

Tables show money with two decimals (``£1,234.56``); prose and charts round to
the pound or to £k/£m (``£1.2m``); headline KPIs (`kpi_value`) keep the pence
below £10,000 only. Percentages carry a sign when they are a change; a ratio's
change is in percentage points (``−1.1 pp``, `kpi_change`). Dates are written
the British way (``9 Dec 2011``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, decimals: int = 2) -> str:
    """``£1,234.56`` (tables); ``−£12.00`` (a true minus) for negatives; an en dash when missing."""
    if _missing(value):
        return "–"
    sign = "−" if round(value, decimals) < 0 else ""
    return f"{sign}£{abs(value):,.{decimals}f}"


def money_short(value: float | None) -> str:
    """Money for prose and charts: ``£950``, ``£12.3k``, ``£1.23m``."""
    if _missing(value):
        return "–"
    sign = "−" if value <= -0.5 else ""
    v = abs(value)
    if v >= 1e6:
        text = f"£{v / 1e6:.2f}m"
    elif v >= 1e4:
        text = f"£{v / 1e3:.0f}k"
    elif v >= 1e3:
        text = f"£{v / 1e3:.1f}k"
    else:
        text = f"£{v:,.0f}"
    return sign + text


def money_change(value: float | None) -> str:
    """A change in money for prose: ``+£104k``, ``−£540k``."""
    if _missing(value):
        return "–"
    return ("+" if value >= 0.5 else "") + money_short(value)


def money_axis(value: float, _pos: object = None) -> str:
    """Tick labels for a money axis (matplotlib FuncFormatter signature)."""
    v = abs(value)
    sign = "−" if value < 0 else ""
    if v >= 1e6:
        return f"{sign}£{v / 1e6:g}m"
    if v >= 1e3:
        return f"{sign}£{v / 1e3:g}k"
    return f"{sign}£{v:g}"


def number(value: float | None, decimals: int = 0) -> str:
    """``1,234`` with thousands separators, ``−80,995`` (a true minus); an en dash when missing."""
    if _missing(value):
        return "–"
    text = f"{value:,.{decimals}f}"
    if not text.startswith("-"):
        return text
    return ("−" if text.strip("-0.,") else "") + text[1:]  # no sign on a rounded zero


def duration(minutes: float | None) -> str:
    """``12 min``, ``22 h``, ``3 days``: how long after something happened."""
    if _missing(minutes):
        return "–"
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / 1440:.0f} days"


def percent(value: float | None, decimals: int = 1) -> str:
    """A share: ``12.3%`` for 0.123."""
    if _missing(value):
        return "–"
    return f"{value * 100:.{decimals}f}%"


def change(value: float | None, decimals: int = 1) -> str:
    """A relative change with its sign: ``+4.2%``, ``−3.0%`` (true minus sign)."""
    if _missing(value) or math.isinf(value):
        return "–"
    text = f"{abs(value) * 100:.{decimals}f}%"
    if round(value * 100, decimals) == 0:
        return "±" + text
    return ("+" if value > 0 else "−") + text


def change_points(value: float | None, decimals: int = 1) -> str:
    """A change of a ratio in percentage points: ``+2.8 pp``, ``−3.0 pp``."""
    text = change(value, decimals)
    return text if text == "–" else text.removesuffix("%") + " pp"


def join_names(names: Sequence[str]) -> str:
    """``France``, ``France and Spain``, ``France, Spain and Norway``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def arrow(value: float | None) -> str:
    """▲ for growth, ▼ for decline, ▶ for no change or unknown."""
    if _missing(value) or round(value, 3) == 0:
        return "▶"
    return "▲" if value > 0 else "▼"


# --------------------------------------------------------------------------- KPIs
# One way to write a headline KPI, for the brief's KPI cards and the email alike.


def kpi_value(value: float | None, unit: str | None) -> str:
    """A KPI's value by its unit: ``14.7%`` (ratio), ``£481.76`` or ``£8.99m`` (GBP), ``20,362``.

    Money below £10,000 keeps its pence; larger sums are rounded like prose
    (`money_short`). Counts (and unknown units) get thousands separators.
    """
    if unit == "ratio":
        return percent(value)
    if unit == "GBP":
        if not _missing(value) and abs(value) < 10_000:
            return money(value)
        return money_short(value)
    return number(value)


def kpi_change(value: float | None, kind: str | None, unit: str | None = None) -> str:
    """A KPI's change by its kind: ``−1.1 pp`` for ``points``, ``+1.6%`` for ``relative``.

    ``kind`` is the KPI's ``change_kind`` in figures.json; when it is missing
    it follows from ``unit`` as the figures define it (ratios change in points).
    """
    if not kind:
        kind = "points" if unit == "ratio" else "relative"
    return change_points(value) if kind == "points" else change(value)


def kpi_basis(comparison: dict, unit: str | None) -> str | None:
    """What a KPI's change compares when it is not the KPI's own value against the other's:
    ``new or returning after 1 month: 3,452 vs 3,354`` (new customers on equal look-back),
    or the period's side cut to the comparison's days. None for a plain comparison."""
    current = comparison.get("current")
    if current is None:
        return None
    pair = f"{kpi_value(current, unit)} vs {kpi_value(comparison.get('value'), unit)}"
    months = comparison.get("lookback_months")
    if months:
        return f"new or returning after {months} month{'s' if months != 1 else ''}: {pair}"
    return f"over the same days: {pair}"


def change_tone(value: float | None, higher_is_better: bool) -> str:
    """``good``, ``bad`` or ``flat`` (no change or unknown): the colour of a change's arrow."""
    if arrow(value) == "▶":
        return "flat"
    return "good" if (value > 0) == bool(higher_is_better) else "bad"


def date(value: dt.date | dt.datetime | str | None) -> str:
    """``9 Dec 2011``."""
    if value is None:
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {value:%b %Y}"


def until(end: dt.datetime | str | None) -> str:
    """`` to 12:50`` when a span stops inside its last day (``end`` is the first instant
    after it, a minute after the last invoice's), else nothing."""
    if end is None:
        return ""
    if isinstance(end, str):
        end = dt.datetime.fromisoformat(end)
    if end.time() == dt.time():
        return ""
    last = end - dt.timedelta(minutes=1)
    return f" to {last:%H:%M}"


def month(value: dt.date | dt.datetime | str | None) -> str:
    """``Dec 2011``."""
    if value is None:
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value:%b %Y}"


# Bidi controls that reorder the text after them until closed: LRE RLE LRO RLO close with
# PDF (U+202C), LRI RLI FSI with PDI (U+2069).
_BIDI_CLOSER = {
    "\u202a": "\u202c",
    "\u202b": "\u202c",
    "\u202d": "\u202c",
    "\u202e": "\u202c",
    "\u2066": "\u2069",
    "\u2067": "\u2069",
    "\u2068": "\u2069",
}
_BIDI_NEUTRALISED = str.maketrans({c: c + closer for c, closer in _BIDI_CLOSER.items()})


def literal_text(value: object) -> object:
    """Text from the data as it is stored, shown in the order it is stored.

    A bidi override in a country (U+202E) would otherwise turn the rest of its
    line around ("abc\\u202edef made 11% of it" reads "abc.ti fo %11 edam fed"):
    each such control is closed right after itself, so it stays in the text but
    reorders nothing. Anything but a plain string (numbers, markup a template
    made) is returned as it is. The Jinja ``finalize`` of the brief and the email.
    """
    if type(value) is not str or not any(c in value for c in _BIDI_CLOSER):
        return value
    return value.translate(_BIDI_NEUTRALISED)
