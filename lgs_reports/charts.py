"""The brief's charts: one function per chart, each drawing from the figures.json document.

API (called by the report pipeline)::

    draw_charts(figures: dict) -> dict[str, str]

returns chart name -> SVG text, for the charts the figures can support (a chart
with nothing to draw, e.g. no countries, is left out and the template says
so). `chart_names` says which those are without drawing any, and `chart_svg`
draws one: the typesetter writes the brief's HTML while the charts are drawn.
Every chart is vector SVG: the densest one has about fifty bars, which WeasyPrint
lays out in well under a second (MEASUREMENTS.md: only plots with thousands of
marks need a PNG; a chart that ever does would be returned as a
``data:image/png;base64,...`` URI instead, which the templates accept too).

One house style (`HOUSE_STYLE`) where colour means something: net sales navy
(pale for months outside the period), cancellations red, new customers teal,
forecasts amber with 80%/95% bands, good/bad changes green/red, and a partial
month hatched with its days written on it ("9 of 31 days"). Charts are sized to
the A4 text width of the PDF (`WIDTH_IN`) and use DejaVu Sans, the font the PDF
text is set in, so 8 pt in a chart is 8 pt on paper.

The same figures always give the same bytes: the SVG carries no date
(``metadata={"Date": None}``) and its ids come from a fixed ``svg.hashsalt``.
Text stays text (``svg.fonttype = "none"``, ``font-family: DejaVu Sans``):
WeasyPrint sets it in the DejaVu Sans the brief embeds from matplotlib's own
font folder, so the PDF does not depend on the fonts installed, chart labels
can be searched and copied, and the charts are painted about twice as fast as
with every glyph drawn as a path. Viewed on its own, an SVG needs DejaVu Sans
installed to look exactly the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import math
import sys
import unicodedata
from collections.abc import Callable, Sequence, Sized
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from lgs_reports import formatting
from lgs_reports.periods import add_months, month_index


@contextlib.contextmanager
def _without_scipy():
    """Hide SciPy from the imports in the block, and put back what was loaded.

    seaborn imports ``scipy.stats`` and ``scipy.cluster`` at import time when SciPy is
    installed, for kernel densities and clustered heatmaps, and takes its own path when
    it is not. The brief draws bars and a plain heatmap, and lgs-reports does not depend
    on SciPy (the test extras bring it, through statsmodels): seaborn without it is 0.5 s
    and 60 MB less per brief, and the charts are the same with SciPy installed or not.
    """

    def scipy_modules() -> dict[str, Any]:
        return {n: m for n, m in sys.modules.items() if n.partition(".")[0] == "scipy"}

    loaded = scipy_modules()
    sys.modules.update(dict.fromkeys([*loaded, "scipy"]))  # None: "import scipy..." fails
    try:
        yield
    finally:
        for name in scipy_modules():
            del sys.modules[name]
        sys.modules.update(loaded)


with _without_scipy():
    import seaborn as sns

# --------------------------------------------------------------------------- house style

WIDTH_IN = 6.9  # the PDF's text width (A4 less 2 x 16 mm margins), in inches

INK = "#1d2733"
MUTED = "#5b6673"
NET = "#1f4e79"  # net sales, and anything "of the period"
NET_PALE = "#a9c1da"  # the same before the period
CANCEL = "#c0392b"
NEW = "#2a9d8f"
NEW_PALE = "#a8dcd5"
EXISTING = "#5f7f9f"
EXISTING_PALE = "#c3d0de"
FORECAST = "#d97706"
GOOD = "#2e7d32"
BAD = "#c62828"
OTHER = "#b8c0c8"  # "Other" rows, previous-year lines, customers' share

HOUSE_STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 7.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "text.color": INK,
    "axes.labelcolor": MUTED,
    "axes.edgecolor": "#9aa3ad",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#e3e7eb",
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.major.size": 2.5,
    "ytick.major.size": 0,
    "xtick.major.width": 0.6,
    "hatch.linewidth": 0.7,
    "lines.linewidth": 1.4,
    "patch.linewidth": 0,
    "svg.fonttype": "none",  # text as text: WeasyPrint sets it in the embedded DejaVu Sans
    "svg.hashsalt": "lgs-reports",  # stable ids, so the same figures give the same bytes
    "svg.image_inline": True,
    "text.parse_math": False,  # text from the data is drawn as written: "$x$" stays "$x$"
}


def draw_charts(figures: dict[str, Any]) -> dict[str, str]:
    """Every chart the figures support, as SVG text keyed by chart name (see `CHARTS`)."""
    return {name: chart_svg(name, figures) for name in chart_names(figures)}


def chart_names(figures: dict[str, Any]) -> list[str]:
    """The charts the figures support, in the brief's order, known without drawing them."""
    return [name for name, chart in CHARTS.items() if chart.shown(figures)]


def chart_size(name: str, figures: dict[str, Any]) -> tuple[float, float]:
    """The width and height of a chart of `chart_names`, in inches, known without drawing
    it: its SVG's ``width`` and ``height`` are these, in points."""
    return WIDTH_IN, CHARTS[name].height(figures)


def chart_svg(name: str, figures: dict[str, Any]) -> str:
    """One chart of `chart_names` drawn in the house style, as SVG text."""
    chart = CHARTS[name]
    with matplotlib.rc_context(HOUSE_STYLE):
        return to_svg(chart.draw(figures, chart.height(figures)))


def to_svg(fig: Figure) -> str:
    """The figure as SVG text with no timestamp (byte-identical for the same figure)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _figure(
    height_in: float,
    *,
    left: float = 0.5,
    right: float = 0.1,
    bottom: float = 0.36,
    top: float = 0.26,
    **subplots: Any,
) -> tuple[Figure, Any]:
    """A figure of the text width with fixed margins in inches.

    Fixed margins instead of constrained layout: they halve the drawing time
    (the layout pass measures every label twice) and line the charts' plot
    areas up with each other down the page.
    """
    fig = Figure(figsize=(WIDTH_IN, height_in))
    gridspec = {
        "left": left / WIDTH_IN,
        "right": 1 - right / WIDTH_IN,
        "bottom": bottom / height_in,
        "top": 1 - top / height_in,
        **subplots.pop("gridspec_kw", {}),
    }
    return fig, fig.subplots(gridspec_kw=gridspec, **subplots)


# --------------------------------------------------------------------------- helpers

LABEL_CHARS = 32  # the longest data label a chart draws; the tables show the whole text


def data_label(text: Any, limit: int = LABEL_CHARS) -> str:
    """Text from the data (a country) as a chart draws it: literal, shortened with an ellipsis.

    Never interpreted: `HOUSE_STYLE` turns matplotlib's math text off, and control
    characters (which SVG cannot hold) are drawn as U+FFFD. A name of any length
    keeps the plot its room.
    """
    literal = str(formatting.literal_text(str(text)))
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in literal)
    return shown if len(shown) <= limit else shown[: limit - 1].rstrip() + "\u2026"


def _months(rows: Sequence[dict[str, Any]]) -> list[dt.date]:
    return [dt.date.fromisoformat(r["month"][:10]) for r in rows]


def _month_ticks(ax: Any, months: Sequence[dt.date], offset: int = 0) -> None:
    """Month names on every bar, the year under January (and the first month unless Nov/Dec)."""
    labels = []
    for i, m in enumerate(months):
        label = f"{m:%b}"
        if m.month == 1 or (i == 0 and m.month < 11):
            label += f"\n{m.year}"
        labels.append(label)
    ax.set_xticks(range(offset, offset + len(months)), labels)
    ax.tick_params(axis="x", length=0, pad=3)
    ax.set_xlim(offset - 0.6, offset + len(months) - 0.4)


def _money_axis(ax: Any, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(formatting.money_axis))
    target.set_major_locator(MaxNLocator(5, min_n_ticks=3))


def _count_axis(ax: Any) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    ax.yaxis.set_major_locator(MaxNLocator(5, integer=True, min_n_ticks=3))


def _days_label(row: dict[str, Any]) -> str:
    return f"{row['days_covered']} of {row['days_in_month']} days"


def _legend(ax: Any, handles: Sequence[Any], **kwargs: Any) -> None:
    options: dict[str, Any] = {
        "loc": "lower left",
        "ncols": len(handles),
        "handlelength": 1.2,
        "columnspacing": 1.2,
        "borderaxespad": 0.15,
        "borderpad": 0,
        "bbox_to_anchor": (0, 1.0),
    }
    options.update(kwargs)
    ax.legend(handles=handles, **options)


PARTIAL_HATCH = "//////"  # a month the data ends inside: outlined and hatched, not filled


def _bar(ax: Any, x: float, height: float, width: float, color: str, *, partial: bool, **kw: Any):
    """One bar: filled, or for a partial month white, outlined and hatched in its colour."""
    if partial:
        kw.pop("alpha", None)
        return ax.bar(
            x,
            height,
            width,
            color="white",
            edgecolor=color,
            hatch=PARTIAL_HATCH,
            linewidth=0.8,
            **kw,
        )
    return ax.bar(x, height, width, color=color, **kw)


def _patch(color: str, label: str, hatch: str | None = None, edge: str | None = None) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=color, edgecolor=edge or color, hatch=hatch, label=label, linewidth=0.6)


def _headroom(ax: Any, factor: float = 1.12) -> None:
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * factor if high > 0 else high)


def _mark_partial_bar(ax: Any, x: float, top: float, row: dict[str, Any]) -> None:
    ax.annotate(
        _days_label(row),
        (x, top),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=6.3,
        color=MUTED,
        rotation=90,
    )


def _mark_censored(ax: Any, x: float, text: str) -> None:
    """Say at the top of the plot, above the bar at ``x``, that it is the first month of data."""
    ax.annotate(
        "▼ " + text,
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-3, -1),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=6.3,
        color=MUTED,
    )


# --------------------------------------------------------------------------- revenue


def net_sales_chart(figures: dict[str, Any], height: float) -> Figure:
    """Net sales per month over the trend window; the period solid, a partial month hatched."""
    rows = figures["monthly"]
    fig, ax = _figure(height)
    for i, row in enumerate(rows):
        value = row["net"] or 0.0
        color = NET if row["in_period"] else NET_PALE
        _bar(ax, i, value, 0.72, color, partial=row["partial"])
    _money_axis(ax)
    _month_ticks(ax, _months(rows))
    _headroom(ax, 1.18)
    for i, row in enumerate(rows):
        if row["partial"]:
            _mark_partial_bar(ax, i, max(row["net"] or 0.0, 0.0), row)
        if row["left_censored"]:
            _mark_censored(ax, i - 0.35, "first month of data")
    handles = [_patch(NET, "net sales, months of the period"), _patch(NET_PALE, "earlier months")]
    if any(r["partial"] for r in rows):
        handles.append(_patch("white", "partial month (data to date)", PARTIAL_HATCH, NET))
    _legend(ax, handles)
    ax.axhline(0, color="#9aa3ad", linewidth=0.6)
    return fig


def growth_chart(figures: dict[str, Any], height: float) -> Figure:
    """Month-on-month growth of net sales; no bar for a partial month (it is not comparable)."""
    rows = figures["monthly"]
    fig, ax = _figure(height, top=0.08)
    for i, row in enumerate(rows):
        growth = row["growth"]
        if row["partial"]:
            ax.annotate(
                "partial",
                (i, 0),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=6.3,
                color=MUTED,
            )
            continue
        if growth is None:
            continue
        color = GOOD if growth >= 0 else BAD
        ax.bar(i, growth, 0.72, color=color, alpha=1.0 if row["in_period"] else 0.45)
    ax.axhline(0, color="#9aa3ad", linewidth=0.6)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    _month_ticks(ax, _months(rows))
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -0.1), max(high, 0.1) * 1.1)
    return fig


def orders_chart(figures: dict[str, Any], height: float) -> Figure:
    """Placed and cancelled orders per month, with the cancellation rate on the right axis."""
    rows = figures["monthly"]
    fig, ax = _figure(height, right=0.55)
    x = np.arange(len(rows))
    placed = [r["placed_orders"] or 0 for r in rows]
    cancelled = [r["cancelled_orders"] or 0 for r in rows]
    for i, row in enumerate(rows):
        alpha = 1.0 if row["in_period"] else 0.5
        _bar(ax, i - 0.19, placed[i], 0.38, NET, partial=row["partial"], alpha=alpha)
        _bar(ax, i + 0.19, cancelled[i], 0.38, CANCEL, partial=row["partial"], alpha=alpha)
    _count_axis(ax)
    _month_ticks(ax, _months(rows))
    _headroom(ax, 1.15)
    rate_ax = ax.twinx()
    rates = [np.nan if r["cancellation_rate"] is None else r["cancellation_rate"] for r in rows]
    rate_ax.plot(
        x, rates, color=CANCEL, linewidth=1.0, marker="o", markersize=2.2, linestyle=(0, (3, 1.5))
    )
    rate_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    rate_ax.set_ylim(0, max(0.05, np.nanmax(rates) * 1.6) if not all(map(math.isnan, rates)) else 1)
    rate_ax.yaxis.set_major_locator(MaxNLocator(4))
    rate_ax.grid(False)
    rate_ax.spines["right"].set_visible(True)
    rate_ax.tick_params(axis="y", colors=CANCEL, length=0)
    rate_ax.set_ylabel("cancellation rate", color=CANCEL)
    for i, row in enumerate(rows):
        if row["partial"]:
            _mark_partial_bar(ax, i, max(placed[i], cancelled[i]), row)
    from matplotlib.lines import Line2D

    handles = [
        _patch(NET, "placed orders"),
        _patch(CANCEL, "cancelled orders"),
        Line2D(
            [],
            [],
            color=CANCEL,
            linewidth=1.0,
            marker="o",
            markersize=2.2,
            linestyle=(0, (3, 1.5)),
            label="cancellation rate (right)",
        ),
    ]
    _legend(ax, handles)
    return fig


# --------------------------------------------------------------------------- customers


def customers_chart(figures: dict[str, Any], height: float) -> Figure:
    """Active customers per month, split into new and existing (stacked)."""
    rows = figures["monthly"]
    fig, ax = _figure(height)
    for i, row in enumerate(rows):
        new = row["new_customers"] or 0
        existing = row["existing_customers"] or 0
        colors = (EXISTING, NEW) if row["in_period"] else (EXISTING_PALE, NEW_PALE)
        _bar(ax, i, existing, 0.72, colors[0], partial=row["partial"])
        _bar(ax, i, new, 0.72, colors[1], partial=row["partial"], bottom=existing)
    _count_axis(ax)
    _month_ticks(ax, _months(rows))
    _headroom(ax, 1.32)
    for i, row in enumerate(rows):
        top = row["active_customers"] or 0
        if row["partial"]:
            _mark_partial_bar(ax, i, top, row)
    _mark_short_lookback(ax, rows)
    handles = [_patch(EXISTING, "existing customers"), _patch(NEW, "new customers")]
    if any(not r["in_period"] for r in rows):
        handles.append(_patch(EXISTING_PALE, "before the period"))
    if any(r["partial"] for r in rows):
        handles.append(_patch("white", "partial month", PARTIAL_HATCH, EXISTING))
    _legend(ax, handles)
    return fig


def _mark_short_lookback(ax: Any, rows: Sequence[dict[str, Any]]) -> None:
    """A bracket over the months with under 12 months of earlier data, saying what it means."""
    short = [i for i, r in enumerate(rows) if r["short_lookback"]]
    if not short:
        return
    left, right = short[0] - 0.36, short[-1] + 0.36
    y = 0.97
    ax.plot(
        [left, left, right, right],
        [y - 0.035, y, y, y - 0.035],
        transform=ax.get_xaxis_transform(),
        color=MUTED,
        linewidth=0.7,
        clip_on=False,
    )
    wide = short[-1] - short[0] >= 8
    ax.annotate(
        "under 12 months of earlier data: “new” includes customers returning after a gap"
        if wide
        else "< 12 months of earlier data:\n“new” includes returning",
        (left, y),
        xycoords=("data", "axes fraction"),
        xytext=(3, -2.5),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=6.3,
        color=MUTED,
        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
    )


def new_customers_chart(figures: dict[str, Any], height: float) -> Figure:
    """New customers per month: the last twelve months against the twelve before.

    A month with under 12 months of earlier data is drawn hollow and dotted (its "new"
    customers include returning ones); a partial month is a hollow point to date, with no
    year-earlier point to compare with (a whole month against days).
    """
    rows = figures["monthly"]
    recent = rows[-12:]
    earlier = {dt.date.fromisoformat(r["month"][:10]): r for r in rows[:-12]}
    fig, ax = _figure(height)
    x = np.arange(len(recent))
    months = _months(recent)
    prior: list[float] = []
    prior_short: list[bool] = []
    censored_at: list[int] = []
    for i, (m, row) in enumerate(zip(months, recent, strict=True)):
        before = earlier.get(m.replace(year=m.year - 1))
        if before is None or before["new_customers"] is None or row["partial"]:
            prior.append(np.nan)
            prior_short.append(False)
        elif before["left_censored"]:
            # everyone looks new in the first month of data: not a comparable point
            prior.append(np.nan)
            prior_short.append(False)
            censored_at.append(i)
        else:
            prior.append(before["new_customers"])
            prior_short.append(bool(before["short_lookback"]))
    _dual_line(ax, x, prior, prior_short, OTHER, "a year earlier", 2.5, 1.2)
    values = [np.nan if r["new_customers"] is None else r["new_customers"] for r in recent]
    shown = [np.nan if r["partial"] else v for r, v in zip(recent, values, strict=True)]
    short = [bool(r["short_lookback"]) for r in recent]
    _dual_line(ax, x, shown, short, NEW, "new customers, last 12 months", 3, 1.6)
    for i, row in enumerate(recent):
        if row["partial"]:
            ax.plot(
                [i],
                [values[i]],
                marker="o",
                markersize=4,
                markerfacecolor="white",
                markeredgecolor=NEW,
                linestyle="none",
            )
            ax.annotate(
                f"{_days_label(row)} to date",
                (i, values[i]),
                xytext=(-4, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=6.3,
                color=MUTED,
            )
    _count_axis(ax)
    ax.set_ylim(0, None)
    _headroom(ax, 1.15)
    top = ax.get_ylim()[1]
    for i in censored_at:
        ax.annotate(
            "a year earlier: first month\nof data, left out",
            (i, top),
            xytext=(0, -2),
            textcoords="offset points",
            ha="left" if i < len(months) / 3 else "right" if i > len(months) * 2 / 3 else "center",
            va="top",
            fontsize=6.3,
            color=MUTED,
        )
    _month_ticks(ax, months)
    _legend(ax, ax.get_legend_handles_labels()[0])
    return fig


def _dual_line(
    ax: Any,
    x: Any,
    values: Sequence[float],
    short: Sequence[bool],
    color: str,
    label: str,
    size: float,
    width: float,
) -> None:
    """One series: solid where the months have a year of earlier data, hollow and dotted
    where they have less (their "new" customers include returning ones)."""
    solid = [np.nan if s else v for v, s in zip(values, short, strict=True)]
    dotted = [v if s else np.nan for v, s in zip(values, short, strict=True)]
    if not all(map(math.isnan, solid)):
        ax.plot(x, solid, color=color, marker="o", markersize=size, linewidth=width, label=label)
    if not all(map(math.isnan, dotted)):
        ax.plot(
            x,
            dotted,
            color=color,
            marker="o",
            markersize=size,
            markerfacecolor="white",
            linewidth=width * 0.75,
            linestyle=(0, (1.5, 1.5)),
            label=f"{label}, under 12 months of earlier data (incl. returning)",
        )


# --------------------------------------------------------------------------- orders


def invoice_amounts_chart(figures: dict[str, Any], height: float) -> Figure:
    """How many invoices fall in each amount band, up to the 85th percentile."""
    amounts = figures["invoice_amounts"]
    bins = _amount_bins(figures)
    fig, ax = _figure(height, left=0.6, bottom=0.42, top=0.08)
    lower = np.array([b["lower"] for b in bins], dtype=float)
    upper = np.array([b["upper"] for b in bins], dtype=float)
    counts = np.array([b["invoices"] for b in bins], dtype=float)
    # the bins are already counted (figures.json): draw them, don't re-bin
    ax.bar(
        lower,
        counts,
        upper - lower,
        align="edge",
        color=NET,
        alpha=0.85,
        edgecolor="white",
        linewidth=0.5,
    )
    ax.set_ylabel("invoices")
    _count_axis(ax)
    _money_axis(ax, "x")
    ax.set_xlim(lower[0], upper[-1])
    _headroom(ax, 1.3)
    top = ax.get_ylim()[1]
    marks = [
        ("median", amounts.get("median"), INK, (0, (4, 2))),
        ("mean", amounts.get("mean"), FORECAST, (0, (1, 1.5))),
    ]
    # labels go on the outer sides of the two lines, so that they never overlap:
    # the usual right-skewed amounts have the mean right of the median
    mean_right = (amounts.get("mean") or 0) >= (amounts.get("median") or 0)
    for name, value, color, style in marks:
        if value is None or not lower[0] <= value <= upper[-1]:
            continue
        ax.axvline(value, color=color, linewidth=1.0, linestyle=style)
        right = mean_right == (name == "mean")
        ax.annotate(
            f"{name} {formatting.money_short(value)}",
            (value, top * 0.96),
            xytext=(3 if right else -3, 0),
            textcoords="offset points",
            color=color,
            fontsize=6.8,
            va="top",
            ha="left" if right else "right",
            bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"},
        )
    ax.set_xlabel("invoice amount")
    return fig


# --------------------------------------------------------------------------- countries


def countries_chart(figures: dict[str, Any], height: float) -> Figure:
    """Net sales of the top countries (left) and their change against the comparison (right)."""
    rows = figures["countries"]["rows"]
    names = [r["country"] for r in rows]
    labels = [
        data_label(name) + (" (account)" if r.get("is_account") else "")
        for name, r in zip(names, rows, strict=True)
    ]
    comparison = (figures.get("countries") or {}).get("comparison")
    if comparison is None:  # no comparison: net sales only
        fig, left = _figure(height, left=_label_width(labels, 7), bottom=0.4, top=0.05)
        right = None
    else:
        fig, (left, right) = _figure(
            height,
            left=_label_width(labels, 7),
            bottom=0.4,
            top=0.05,
            ncols=2,
            sharey=True,
            width_ratios=[3, 2],
            gridspec_kw={"wspace": 0.06},
        )
    _country_sales(left, rows, names, labels)
    if right is not None:
        _country_changes(right, rows, comparison)
    return fig


def _country_sales(
    left: Any, rows: Sequence[dict[str, Any]], names: Sequence[str], labels: Sequence[str]
) -> None:
    """The left panel of the countries chart: net sales and share, accounts marked."""
    colors = [OTHER if (r.get("countries") or 1) > 1 else NET for r in rows]
    nets = [r["net"] or 0.0 for r in rows]
    sns.barplot(
        x=nets,
        y=names,
        hue=names,
        palette=colors,
        legend=False,
        ax=left,
        orient="h",
        width=0.7,
        saturation=1,
    )
    left.set_yticks(range(len(labels)), labels)
    _money_axis(left, "x")
    left.grid(axis="x")
    left.grid(axis="y", visible=False)
    left.set_xlabel("net sales (share of total)")
    left.set_ylabel("")
    left.tick_params(axis="y", length=0)
    span = max(max(nets), 0.0)
    left.set_xlim(min(0.0, min(nets)), span * 1.3 if span > 0 else 1)
    for i, r in enumerate(rows):
        left.text(
            max(nets[i], 0) + span * 0.012,
            i,
            f"{formatting.money_short(r['net'])} ({formatting.percent(r['share'])})",
            va="center",
            fontsize=6.5,
            color=INK,
        )


def _country_changes(right: Any, rows: Sequence[dict[str, Any]], comparison: str) -> None:
    """The right panel of the countries chart: each country's change, cut at +-100%."""
    changes = [r["change"] for r in rows]
    known = [c for c in changes if c is not None] or [0.0]
    # a country that grew from almost nothing would flatten the rest: cut bars at +-100%
    high = min(max(max(known), 0.1), 1.0)
    low = max(min(min(known), -0.1), -1.0)
    pad = (high - low) * 0.22
    for i, c in enumerate(changes):
        if c is None:
            right.text(0, i, " new", va="center", fontsize=6.5, color=MUTED)
            continue
        shown = max(low, min(high, c))
        clipped = shown != c
        right.barh(i, shown, 0.7, color=GOOD if c >= 0 else BAD)
        label = formatting.change(c)
        offset = (high - low) * 0.02
        if clipped:  # the bar is cut at the axis end: its true value goes inside it
            right.text(
                shown - (offset if c >= 0 else -offset),
                i,
                label,
                va="center",
                ha="right" if c >= 0 else "left",
                fontsize=6.5,
                color="white",
                fontweight="bold",
            )
        else:
            right.text(
                shown + (offset if c >= 0 else -offset),
                i,
                label,
                va="center",
                ha="left" if c >= 0 else "right",
                fontsize=6.5,
                color=INK,
            )
    right.set_xlim(low - pad, high + pad)
    right.axvline(0, color="#9aa3ad", linewidth=0.6)
    right.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    right.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 2.5, 5, 10]))
    right.grid(axis="x")
    right.grid(axis="y", visible=False)
    right.set_xlabel(f"change against {comparison}")
    right.tick_params(axis="y", length=0)
    right.spines["left"].set_visible(False)


def _label_width(labels: Sequence[str], size_pt: float) -> float:
    """Inches needed for the longest tick label (DejaVu Sans averages 0.6 em per character)."""
    longest = max((len(label) for label in labels), default=4)
    return 0.12 + longest * size_pt * 0.6 / 72


# --------------------------------------------------------------------------- segments


def segments_chart(figures: dict[str, Any], height: float) -> Figure:
    """Each RFM segment's share of the customers and of the net sales."""
    rows = figures["segments"]["summary"]
    labels = [f"{r['segment']} ({r['customers']:,})" for r in rows]
    fig, ax = _figure(height, left=_label_width(labels, 7.2), bottom=0.28, top=0.22)
    y = np.arange(len(rows))
    customers = [r["share_customers"] or 0 for r in rows]
    sales = [r["share_monetary"] or 0 for r in rows]
    ax.barh(y - 0.19, customers, 0.38, color=OTHER, label="share of customers")
    ax.barh(y + 0.19, sales, 0.38, color=NET, label="share of net sales")
    for i in range(len(rows)):
        ax.text(
            max(customers[i], 0) + 0.004,
            i - 0.19,
            formatting.percent(customers[i]),
            va="center",
            fontsize=6.3,
            color=MUTED,
        )
        ax.text(
            max(sales[i], 0) + 0.004,
            i + 0.19,
            formatting.percent(sales[i]),
            va="center",
            fontsize=6.3,
            color=INK,
        )
    ax.set_yticks(y, labels)
    for tick, r in zip(ax.get_yticklabels(), rows, strict=True):
        if r.get("priority"):
            tick.set_fontweight("bold")
            tick.set_color(INK)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    high = max(customers + sales + [0.05])
    low = min(customers + sales + [0])
    ax.set_xlim(low * 1.1, high * 1.15)
    ax.tick_params(axis="y", length=0)
    _legend(ax, ax.get_legend_handles_labels()[0])
    return fig


# --------------------------------------------------------------------------- forecast


def _forecast_chart(forecast: dict[str, Any], money: bool, height: float) -> Figure:
    history = forecast.get("history") or []
    points = forecast.get("points") or []
    months = [dt.date.fromisoformat(m[:10]) for m, _ in history]
    months += [dt.date.fromisoformat(p["month"][:10]) for p in points]
    start = months[0]

    def index(month: str) -> int:
        return month_index(dt.date.fromisoformat(month[:10])) - month_index(start)

    fig, ax = _figure(height)
    hx = [index(m) for m, _ in history]
    hy = [np.nan if v is None else v for _, v in history]
    ax.plot(hx, hy, color=NET, marker="o", markersize=2.3, linewidth=1.4, label="actual")
    if points:
        px = [index(p["month"]) for p in points]
        mean = [p["mean"] for p in points]
        ax.fill_between(
            px,
            [p["lo95"] for p in points],
            [p["hi95"] for p in points],
            color=FORECAST,
            alpha=0.16,
            linewidth=0,
            label="95% interval",
        )
        ax.fill_between(
            px,
            [p["lo80"] for p in points],
            [p["hi80"] for p in points],
            color=FORECAST,
            alpha=0.32,
            linewidth=0,
            label="80% interval",
        )
        if hx:
            ax.plot(
                [hx[-1], px[0]],
                [hy[-1], mean[0]],
                color=FORECAST,
                linewidth=1.2,
                linestyle=(0, (3, 2)),
            )
        ax.plot(
            px,
            mean,
            color=FORECAST,
            marker="o",
            markersize=2.8,
            linewidth=1.4,
            linestyle=(0, (3, 2)),
            label="forecast",
        )
        for x, p in zip(px, points, strict=True):
            if p.get("actual_to_date") is not None:
                ax.plot(
                    [x],
                    [p["actual_to_date"]],
                    marker="D",
                    markersize=4,
                    markerfacecolor="white",
                    markeredgecolor=NET,
                    linestyle="none",
                    label="actual to date (partial month)",
                )
    if money:
        _money_axis(ax)
    else:
        _count_axis(ax)
    total = month_index(months[-1]) - month_index(start) + 1
    all_months = [add_months(start, i) for i in range(total)]
    _month_ticks(ax, all_months)
    low, high = ax.get_ylim()
    ax.set_ylim(min(0, low), high * 1.12)
    if points:
        ax.axvspan(
            index(points[0]["month"]) - 0.5, total - 0.4, color="#f4f1ea", zorder=0, linewidth=0
        )
    _legend(ax, ax.get_legend_handles_labels()[0])
    return fig


def forecast_net_sales_chart(figures: dict[str, Any], height: float) -> Figure:
    """Net sales: the months so far, the forecast and its 80%/95% intervals."""
    return _forecast_chart(figures["forecast"]["net_sales"], money=True, height=height)


def forecast_active_customers_chart(figures: dict[str, Any], height: float) -> Figure:
    """Active customers: the months so far, the forecast and its 80%/95% intervals."""
    return _forecast_chart(figures["forecast"]["active_customers"], money=False, height=height)


# --------------------------------------------------------------------------- growth


def bridge_chart(figures: dict[str, Any], height: float) -> Figure:
    """A waterfall from the comparison's net sales to the period's, step by customer group."""
    bridge = figures["growth_bridge"]
    split = next(s for s in bridge["splits"] if s["key"] == "customer")
    short = {
        "retained": "retained\ncustomers",
        "new": "new or\nreturning",
        "lost": "lost\ncustomers",
        "other": "other\ncustomer lines",
        "guests": "guests",
    }
    labels = ["then", *[short.get(p["key"], p["key"]) for p in split["parts"]], "now"]
    fig, ax = _figure(height, left=0.55, bottom=0.42, top=0.12)
    level = bridge["previous_net"]
    ax.bar(0, level, 0.62, color=NET_PALE)
    _bar_label(ax, 0, level, formatting.money_short(level), inside=True)
    for i, part in enumerate(split["parts"], start=1):
        change = part["change"]
        bottom = level if change >= 0 else level + change
        ax.bar(i, abs(change), 0.62, bottom=bottom, color=GOOD if change >= 0 else BAD)
        ax.plot([i - 1.31, i - 0.31], [level, level], color=MUTED, linewidth=0.5)
        _bar_label(ax, i, max(level, level + change), formatting.money_change(change))
        level += change
    end = len(split["parts"]) + 1
    ax.plot([end - 1.31, end - 0.31], [level, level], color=MUTED, linewidth=0.5)
    ax.bar(end, bridge["current_net"], 0.62, color=NET)
    now = formatting.money_short(bridge["current_net"])
    _bar_label(ax, end, bridge["current_net"], now, inside=True)
    ax.set_xticks(range(end + 1), labels)
    ax.tick_params(axis="x", length=0, pad=3)
    _money_axis(ax)
    _headroom(ax, 1.12)
    return fig


def _bar_label(ax: Any, x: float, top: float, text: str, *, inside: bool = False) -> None:
    ax.annotate(
        text,
        (x, top),
        xytext=(0, -3 if inside else 2),
        textcoords="offset points",
        ha="center",
        va="top" if inside else "bottom",
        fontsize=6.5,
        color="white" if inside else INK,
    )


# --------------------------------------------------------------------------- retention


def cohorts_chart(figures: dict[str, Any], height: float) -> Figure:
    """The share of each acquisition cohort ordering in each month after its first."""
    cohorts = _cohorts(figures)
    width = _cohort_width(cohorts)
    grid = np.full((len(cohorts), width), np.nan)
    for i, c in enumerate(cohorts):
        shares = [np.nan if v is None else v for v in c["shares"][1:]]
        grid[i, : len(shares)] = shares
    labels = [
        f"{dt.date.fromisoformat(c['month'][:10]):%b %Y} ({c['customers']:,})" for c in cohorts
    ]
    fig, ax = _figure(height, left=_label_width(labels, 7), bottom=0.36, top=0.08)
    top = float(np.nanmax(grid)) if not np.isnan(grid).all() else 0.5
    sns.heatmap(
        grid,
        ax=ax,
        cmap=sns.light_palette(NET, as_cmap=True),
        vmin=0,
        vmax=max(0.5, top),
        annot=True,
        fmt=".0%",
        annot_kws={"fontsize": 6},
        cbar=False,
        linewidths=0.4,
        linecolor="white",
        xticklabels=[str(k) for k in range(1, width + 1)],
        yticklabels=labels,
    )
    ax.set_xlabel("months after the first order")
    ax.tick_params(axis="both", length=0)
    ax.grid(False)
    return fig


# --------------------------------------------------------------------------- the charts


def _has_months(figures: dict[str, Any]) -> bool:
    return bool(figures.get("monthly"))


def _has_growth(figures: dict[str, Any]) -> bool:
    return any(r["growth"] is not None for r in figures.get("monthly") or [])


def _has_two_months(figures: dict[str, Any]) -> bool:
    return len(figures.get("monthly") or []) >= 2


def _has_bridge(figures: dict[str, Any]) -> bool:
    return bool(figures.get("growth_bridge"))


def _cohorts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return (figures.get("retention") or {}).get("cohorts") or []


def _cohort_width(cohorts: Sequence[dict[str, Any]]) -> int:
    """The months after the first that the cohort grid has columns for."""
    return max((len(c["shares"]) for c in cohorts), default=1) - 1


def _has_cohorts(figures: dict[str, Any]) -> bool:
    return _cohort_width(_cohorts(figures)) >= 1


def _amount_bins(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return ((figures.get("invoice_amounts") or {}).get("histogram") or {}).get("bins") or []


def _has_amounts(figures: dict[str, Any]) -> bool:
    return bool(_amount_bins(figures))


def _has_countries(figures: dict[str, Any]) -> bool:
    return bool((figures.get("countries") or {}).get("rows"))


def _has_segments(figures: dict[str, Any]) -> bool:
    return bool((figures.get("segments") or {}).get("summary"))


def _has_forecast(key: str) -> Callable[[dict[str, Any]], bool]:
    def shown(figures: dict[str, Any]) -> bool:
        forecast = (figures.get("forecast") or {}).get(key) or {}
        return bool(forecast.get("history") or forecast.get("points"))

    return shown


def _fixed(inches: float) -> Callable[[dict[str, Any]], float]:
    return lambda figures: inches


def _per_row(base: float, row: float, rows: Callable[[dict[str, Any]], Sized]) -> Any:
    return lambda figures: base + row * len(rows(figures))


@dataclasses.dataclass(frozen=True)
class Chart:
    """One chart of the brief: whether the figures support it and its height in inches
    (both decided without drawing, so that the brief can be laid out while the charts are
    drawn), and its drawing at that height."""

    shown: Callable[[dict[str, Any]], bool]
    height: Callable[[dict[str, Any]], float]
    draw: Callable[[dict[str, Any], float], Figure]


#: Chart name -> chart, in the order the brief shows them.
CHARTS: dict[str, Chart] = {
    "net_sales": Chart(_has_months, _fixed(2.45), net_sales_chart),
    "growth": Chart(_has_growth, _fixed(1.7), growth_chart),
    "orders": Chart(_has_months, _fixed(2.35), orders_chart),
    "bridge": Chart(_has_bridge, _fixed(2.3), bridge_chart),
    "customers": Chart(_has_months, _fixed(2.45), customers_chart),
    "new_customers": Chart(_has_two_months, _fixed(1.95), new_customers_chart),
    "cohorts": Chart(_has_cohorts, _per_row(0.5, 0.2, _cohorts), cohorts_chart),
    "invoice_amounts": Chart(_has_amounts, _fixed(2.2), invoice_amounts_chart),
    "countries": Chart(
        _has_countries, _per_row(0.5, 0.18, lambda f: f["countries"]["rows"]), countries_chart
    ),
    "segments": Chart(
        _has_segments, _per_row(0.55, 0.24, lambda f: f["segments"]["summary"]), segments_chart
    ),
    "forecast_net_sales": Chart(_has_forecast("net_sales"), _fixed(2.3), forecast_net_sales_chart),
    "forecast_active_customers": Chart(
        _has_forecast("active_customers"), _fixed(2.3), forecast_active_customers_chart
    ),
}
