"""The brief's charts: valid, reproducible SVG; partial months marked; thin data survives.

Figures come from ``tests/data/figures_small.json`` (the 2011 brief's figures,
partial: data ends 9 Dec 2011, customer ids replaced) and variants of it built
here; no database is needed.
"""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib

from lgs_reports.charts import CHARTS, LABEL_CHARS, chart_size, data_label, draw_charts

SVG = "{http://www.w3.org/2000/svg}"


def _patterns(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}pattern"))


def test_every_chart_is_drawn_as_svg_that_parses(charts: dict[str, str]) -> None:
    assert list(charts) == list(CHARTS)
    for name, svg in charts.items():
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg", name
        assert root.get("width", "").endswith("pt"), name


def test_each_charts_size_is_known_before_it_is_drawn(figures: dict[str, Any]) -> None:
    """The brief is laid out while the charts are drawn, each one's box sized by
    `chart_size`: the SVG drawn later must be that size, in points."""
    fewer = copy.deepcopy(figures)  # the sizes that follow the data: other row counts
    fewer["countries"]["rows"] = fewer["countries"]["rows"][:3]
    fewer["segments"]["summary"] = fewer["segments"]["summary"][:4]
    for variant in (figures, fewer):
        for name, svg in draw_charts(variant).items():
            width, height = (round(inches * 72, 6) for inches in chart_size(name, variant))
            root = ET.fromstring(svg)
            drawn = (root.get("width"), root.get("height"))
            assert drawn == (f"{width:g}pt", f"{height:g}pt"), name


def test_charts_carry_no_timestamp(charts: dict[str, str]) -> None:
    # the data ends in 2011: neither this year nor last may appear, whatever year it is
    this_year = dt.date.today().year
    for name, svg in charts.items():
        assert "<dc:date>" not in svg, name
        assert str(this_year) not in svg and str(this_year - 1) not in svg, name


def test_same_figures_give_the_same_bytes(figures: dict[str, Any], charts: dict[str, str]) -> None:
    assert draw_charts(figures) == charts


def test_drawing_leaves_the_global_matplotlib_settings_alone(figures: dict[str, Any]) -> None:
    before = dict(matplotlib.rcParams)
    draw_charts(figures)
    assert dict(matplotlib.rcParams) == before


def test_money_axes_are_in_pounds(charts: dict[str, str]) -> None:
    # text is kept as text (svg.fonttype none): tick labels can be read back
    assert "£800k" in charts["net_sales"]
    assert "£1.2m" in charts["forecast_net_sales"]


def test_partial_month_is_hatched_and_labelled(charts: dict[str, str]) -> None:
    svg = charts["net_sales"]
    assert _patterns(svg), "the partial month's bar should be hatched"
    assert "9 of 31 days" in svg


def test_complete_months_are_not_hatched(figures: dict[str, Any]) -> None:
    whole = copy.deepcopy(figures)
    for month in whole["monthly"]:
        month["partial"] = False
    svg = draw_charts(whole)["net_sales"]
    assert not _patterns(svg)
    assert "of 31 days" not in svg


def test_left_censored_first_month_is_marked(figures: dict[str, Any]) -> None:
    censored = copy.deepcopy(figures)
    censored["monthly"][0]["left_censored"] = True
    charts = draw_charts(censored)
    assert "first month of data" in charts["net_sales"]


def test_months_with_under_a_year_of_lookback_are_marked(figures: dict[str, Any]) -> None:
    # the 2011 brief's window starts Jan 2010: Jan - Nov 2010 have under 12 months before them
    short = [m["month"][:7] for m in figures["monthly"] if m["short_lookback"]]
    assert short[0] == "2010-01" and short[-1] == "2010-11"
    charts = draw_charts(figures)
    assert "under 12 months of earlier data" in charts["customers"]
    assert "a year earlier, under 12 months of earlier data" in charts["new_customers"]
    full = copy.deepcopy(figures)
    for month in full["monthly"]:
        month["short_lookback"] = False
    charts = draw_charts(full)
    assert "12 months of earlier data" not in charts["customers"]
    assert "12 months of earlier data" not in charts["new_customers"]


def test_no_comparison_draws_no_change_panel(figures: dict[str, Any]) -> None:
    assert "change against" in draw_charts(figures)["countries"]
    alone = copy.deepcopy(figures)
    alone["countries"]["comparison"] = None
    for row in alone["countries"]["rows"]:
        row.update(previous_net=None, change=None)
    svg = draw_charts(alone)["countries"]
    ET.fromstring(svg)
    assert "change against" not in svg and "new" not in svg


def test_forecast_marks_the_partial_month_actual_to_date(charts: dict[str, str]) -> None:
    assert "actual to date (partial month)" in charts["forecast_net_sales"]
    assert "95% interval" in charts["forecast_net_sales"]


def test_no_forecast_points_still_draws_the_history(figures: dict[str, Any]) -> None:
    short = copy.deepcopy(figures)
    for forecast in short["forecast"].values():
        forecast["points"] = []
    svg = draw_charts(short)["forecast_net_sales"]
    ET.fromstring(svg)
    assert "actual" in svg
    assert "95% interval" not in svg


def test_thin_data_does_not_crash(figures: dict[str, Any]) -> None:
    thin = copy.deepcopy(figures)
    thin["monthly"] = thin["monthly"][-1:]
    thin["countries"]["rows"] = []
    thin["countries"]["all"] = []
    thin["segments"]["summary"] = []
    thin["invoice_amounts"]["histogram"]["bins"] = []
    thin["forecast"] = {
        key: {**f, "history": [], "points": []} for key, f in thin["forecast"].items()
    }
    charts = draw_charts(thin)
    for name in (
        "countries",
        "segments",
        "invoice_amounts",
        "forecast_net_sales",
        "forecast_active_customers",
        "new_customers",
        "growth",
    ):
        assert name not in charts, name
    assert {"net_sales", "orders", "customers"} <= set(charts)
    for svg in charts.values():
        ET.fromstring(svg)


def test_empty_figures_give_no_charts() -> None:
    assert draw_charts({}) == {}


def test_missing_values_do_not_crash(figures: dict[str, Any]) -> None:
    holes = copy.deepcopy(figures)
    for month in holes["monthly"][:3]:
        month.update(net=None, growth=None, cancellation_rate=None, new_customers=None)
    holes["countries"]["rows"][1]["change"] = None
    charts = draw_charts(holes)
    assert "new" in charts["countries"]  # a country with nothing to compare with


def _texts(svg: str) -> list[str]:
    """Every text the SVG draws (``svg.fonttype`` none keeps text as text)."""
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_country_names_are_drawn_literally_and_long_ones_shortened(
    figures: dict[str, Any],
) -> None:
    hostile = copy.deepcopy(figures)
    names = [
        "L" * 130,  # 115+ characters made the chart fail ("left cannot be >= right")
        r"$\notacommand$",  # crashed matplotlib's math parser
        r"$\frac{1}{2}$ Land",  # was drawn as "½ Land"
        "Ctl\x01\x1b\x7fland",  # control characters cannot be in SVG at all
    ]
    for row, name in zip(hostile["countries"]["rows"], names, strict=False):
        row.update(country=name, is_account=False)
    svg = draw_charts(hostile)["countries"]
    texts = _texts(svg)  # parses: no control character got into the XML
    assert "L" * (LABEL_CHARS - 1) + "…" in texts
    assert r"$\notacommand$" in texts and r"$\frac{1}{2}$ Land" in texts
    assert "Ctl\ufffd\ufffd\ufffdland" in texts
    assert "½" not in svg


def test_data_label() -> None:
    assert data_label("EIRE") == "EIRE"
    assert data_label("x" * LABEL_CHARS) == "x" * LABEL_CHARS
    assert data_label("x" * (LABEL_CHARS + 1)) == "x" * (LABEL_CHARS - 1) + "…"
    assert data_label("abcd efgh", 6) == "abcd…"  # no space before the ellipsis
    assert data_label("tab\there\n") == "tab\ufffdhere\ufffd"
    assert data_label("abc\u202edef") == "abc\u202e\u202cdef"  # the override reorders nothing


def _python(code: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def test_seaborn_is_loaded_without_scipy_and_scipy_is_left_as_it_was() -> None:
    # charts hides SciPy while seaborn imports (0.5 s and 60 MB a brief): seaborn takes its
    # no-SciPy path whether SciPy is installed or already loaded, and a SciPy loaded before
    # is the same module afterwards
    assert _python(
        "import sys\n"
        "from lgs_reports import charts\n"
        "print(charts.sns.matrix._no_scipy, charts.sns._statistics._no_scipy)\n"
        "print(any(n.startswith('scipy') for n in sys.modules))\n"
    ) == ["True", "True", "False"]
    assert _python(
        "import sys, scipy.stats\n"
        "loaded = {n: m for n, m in sys.modules.items() if n.startswith('scipy')}\n"
        "from lgs_reports import charts\n"
        "print(charts.sns.matrix._no_scipy, charts.sns._statistics._no_scipy)\n"
        "print(loaded == {n: m for n, m in sys.modules.items() if n.startswith('scipy')})\n"
    ) == ["True", "True", "True"]
