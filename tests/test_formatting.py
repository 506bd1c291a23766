"""The one way to write a headline KPI (`formatting.kpi_value`, `kpi_change`, `change_tone`)."""

from __future__ import annotations

import math

import pytest

from lgs_reports import formatting


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.147034, "ratio", "14.7%"),
        (481.76, "GBP", "£481.76"),
        (9999.994, "GBP", "£9,999.99"),
        (8990363.4, "GBP", "£8.99m"),
        (-25_000.0, "GBP", "−£25k"),
        (20362.0, "count", "20,362"),
        (None, "GBP", "–"),
        (math.nan, "ratio", "–"),
        (None, "count", "–"),
    ],
)
def test_kpi_value_by_unit(value: float | None, unit: str, text: str) -> None:
    assert formatting.kpi_value(value, unit) == text


@pytest.mark.parametrize(
    ("value", "kind", "unit", "text"),
    [
        (-0.011218, "points", "ratio", "−1.1 pp"),
        (0.010945, "points", "ratio", "+1.1 pp"),
        (0.0001, "points", "ratio", "±0.0 pp"),
        (0.016356, "relative", "GBP", "+1.6%"),
        (-0.086578, "relative", "count", "−8.7%"),
        (None, "points", "ratio", "–"),
        (math.inf, "relative", "GBP", "–"),
        # figures without change_kind: ratios change in points, as figures_json.py defines it
        (-0.041, None, "ratio", "−4.1 pp"),
        (0.16, None, "GBP", "+16.0%"),
    ],
)
def test_kpi_change_by_kind(value: float | None, kind: str | None, unit: str, text: str) -> None:
    assert formatting.kpi_change(value, kind, unit) == text


def test_change_points_is_the_change_in_points() -> None:
    assert formatting.change_points(0.028) == "+2.8 pp"
    assert formatting.change_points(-0.03) == "−3.0 pp"
    assert formatting.change_points(None) == "–"


@pytest.mark.parametrize(
    ("value", "higher_is_better", "tone"),
    [
        (0.1, True, "good"),
        (0.1, False, "bad"),
        (-0.1, True, "bad"),
        (-0.1, False, "good"),
        (0.0004, True, "flat"),
        (None, True, "flat"),
    ],
)
def test_change_tone(value: float | None, higher_is_better: bool, tone: str) -> None:
    assert formatting.change_tone(value, higher_is_better) == tone


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc\u202edef", "abc\u202e\u202cdef"),  # RLO closed by PDF: "def" is not turned around
        ("\u202b\u202a\u202d", "\u202b\u202c\u202a\u202c\u202d\u202c"),
        ("a\u2067b\u2066c\u2068d", "a\u2067\u2069b\u2066\u2069c\u2068\u2069d"),  # isolates: PDI
        ("\u202c stray closers \u2069", "\u202c stray closers \u2069"),  # harmless, kept
        ("Côte d'Ivoire <b>", "Côte d'Ivoire <b>"),
        (42, 42),
    ],
)
def test_literal_text_keeps_the_stored_order(value: object, shown: object) -> None:
    assert formatting.literal_text(value) == shown


def test_literal_text_leaves_template_markup_alone() -> None:
    from markupsafe import Markup

    made = Markup("<span dir=rtl>\u202e</span>")
    assert formatting.literal_text(made) is made
