"""The brief is laid out while its charts are drawn: each chart's box is laid out for
its frame, and the chart is put in it before the PDF is written; the same bytes as a
brief laid out with its charts in hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lgs_reports import painting, render
from lgs_reports.chart_frames import ChartSizeError
from lgs_reports.charts import chart_names, chart_size


class Drawn:
    """A `render.ChartSource` of charts drawn here, noting which were asked for."""

    def __init__(self, charts: dict[str, str], figures: dict[str, Any]) -> None:
        self._charts = charts
        self._figures = figures
        self.asked: list[str] = []

    def names(self) -> list[str]:
        return chart_names(self._figures)

    def size(self, name: str) -> tuple[float, float]:
        return chart_size(name, self._figures)

    def svg(self, name: str) -> str:
        self.asked.append(name)
        return self._charts[name]


def laid_out(figures: dict[str, Any], source: Drawn) -> tuple[Any, render.BriefContext]:
    images = {name: f"{render.CHART_SCHEME}:{name}" for name in source.names()}
    context = render.BriefContext(figures=figures, charts=images, company="LGS")
    return render.layout(render.render_html(context), context, charts=source), context


def test_the_layout_asks_for_no_chart_and_the_pdf_is_the_one_made_with_them(
    figures, charts, monkeypatch
):
    source = Drawn(charts, figures)
    document, context = laid_out(figures, source)
    assert source.asked == []  # laid out with the frames alone
    framed = render.write(document, context)
    assert source.asked == chart_names(figures)  # each put in its frame, in order
    # without frames, the layout reads each chart as it places it
    monkeypatch.setattr(painting, "proven_weasyprint", lambda: False)
    unframed = Drawn(charts, figures)
    document, context = laid_out(figures, unframed)
    assert unframed.asked == chart_names(figures)
    assert framed.startswith(b"%PDF-") and framed == render.write(document, context)


def test_a_chart_drawn_at_another_size_than_its_frame_is_an_error(figures, charts):
    shorter = copy.deepcopy(figures)
    shorter["countries"]["rows"] = shorter["countries"]["rows"][:3]  # a shorter frame
    document, context = laid_out(shorter, Drawn(charts, shorter))
    with pytest.raises(ChartSizeError) as raised:
        render.write(document, context)
    width, height = chart_size("countries", figures)
    framed = chart_size("countries", shorter)[1]
    assert str(raised.value) == (
        f"chart countries was drawn at ('{width * 72:g}pt', '{height * 72:g}pt', "
        f"'0 0 {width * 72:g} {height * 72:g}'), its frame is ('{width * 72:g}pt', "
        f"'{framed * 72:g}pt', '0 0 {width * 72:g} {framed * 72:g}')"
    )
