"""The brief as HTML and PDF: structure, formatting, escaping, overrides, safety, repeatability.

HTML is checked by structure (parsed, not grepped); the PDF is read back with
pypdf (page count, text per page, outline, metadata, fonts). Figures come from
``tests/data/figures_small.json`` and variants of it; no database is needed.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pypdf
import pytest

from lgs_reports import render
from lgs_reports.charts import CHARTS, draw_charts
from lgs_reports.errors import ConfigError
from lgs_reports.render import (
    SECTIONS,
    BriefContext,
    RefusedUrl,
    render_brief,
    render_html,
    render_pdf,
    url_fetcher,
)

COMPANY = "London Gift Shop"
EVIL_COUNTRY = "<img src=http://x>"
EVIL_TEXT = "{{ 7*7 }} & <script>alert(1)</script>"


# --------------------------------------------------------------------------- helpers


class Element:
    """A parsed element: tag, attributes, children and the text inside it."""

    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def iter(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            classes = (child.attrs.get("class") or "").split()
            if (tag is None or child.tag == tag) and (cls is None or cls in classes):
                found.append(child)
            found += child.iter(tag, cls)
        return found

    def find(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.iter(tag, cls)
        assert found, f"no <{tag} class={cls}>"
        return found[0]


class _TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "link", "img", "br", "col", "hr", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        node: Element | None = self.current
        while node is not None:
            node.parts.append(data)
            node = node.parent


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def context(
    figures: dict[str, Any], charts: dict[str, str] | None = None, **kw: Any
) -> BriefContext:
    return BriefContext(
        figures=figures,
        charts=charts if charts is not None else {},
        company=COMPANY,
        **kw,
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def timings() -> dict[str, float]:
    return {}


@pytest.fixture(scope="module")
def brief(figures: dict[str, Any], timings: dict[str, float]) -> tuple[str, bytes]:
    return render_brief(figures, company=COMPANY, templates_dir=None, timings=timings)


@pytest.fixture(scope="module")
def html_tree(brief: tuple[str, bytes]) -> Element:
    return parse(brief[0])


@pytest.fixture(scope="module")
def pdf(brief: tuple[str, bytes]) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(brief[1]))


@pytest.fixture(scope="module")
def pages(pdf: pypdf.PdfReader) -> list[str]:
    return [page.extract_text() for page in pdf.pages]


@pytest.fixture(scope="module")
def sample_figures(figures: dict[str, Any]) -> dict[str, Any]:
    sample = copy.deepcopy(figures)
    sample["sample_data"] = True
    return sample


# --------------------------------------------------------------------------- HTML


def test_the_ten_sections_in_order(html_tree: Element) -> None:
    sections = html_tree.iter("section", "section")
    assert [s.attrs["id"] for s in sections] == [sid for sid, _ in SECTIONS]
    for section, (_, title) in zip(sections[1:], SECTIONS[1:], strict=True):
        assert section.find("h1").text == title


def test_kpis_are_formatted(html_tree: Element) -> None:
    summary = html_tree.iter("section", "section-summary")[0]
    cards = {card.find("div", "kpi-label").text: card for card in summary.iter("div", "kpi")}
    assert cards["Net sales"].find("div", "kpi-value").text == "£8.99m"
    assert cards["Average order value"].find("div", "kpi-value").text == "£519.85"
    assert cards["Orders"].find("div", "kpi-value").text == "18,341"
    assert cards["Cancellation rate"].find("div", "kpi-value").text == "14.0%"
    net_change = cards["Net sales"].find("div", "kpi-change")
    assert net_change.text == "▲ +2.0% vs 1 Jan – 9 Dec 2010 (£8.81m)"
    assert "good" in net_change.attrs["class"]
    # a ratio changes in points; fewer cancellations is good
    rate = cards["Cancellation rate"].find("div", "kpi-change")
    assert rate.text.startswith("▼ −1.4 pp") and "good" in rate.attrs["class"]
    # more cancelled value is bad, though the arrow points up
    cancelled = cards["Cancellations"].find("div", "kpi-change")
    assert cancelled.text.startswith("▲") and "bad" in cancelled.attrs["class"]


def test_new_customers_are_compared_on_equal_lookback_only(html_tree: Element) -> None:
    card = html_tree.find("div", "kpi-new_customers")
    # the card's value is the first-ever count; its change is the recount on equal footing
    assert card.find("div", "kpi-value").text == "1,537"
    assert card.find("div", "kpi-change").text == (
        "▲ +2.9% vs 1 Jan – 9 Dec 2010, new or returning after 1 month: 3,452 vs 3,354"
    )
    customers = html_tree.iter("section", "section-customers")[0].text
    assert "On equal look-back, 3,452 ordered with no order in the 1 month before" in customers


def test_no_comparison_says_so_and_shows_no_change(figures: dict[str, Any]) -> None:
    alone = copy.deepcopy(figures)
    reason = "the data starts 1 Dec 2009"
    for c in alone["comparisons"][1:]:
        c.update(available=False, title="2010", start=None, end=None, reason=reason)
    for kpi in alone["kpis"]:
        kpi.update(previous=None, change=None, comparison=None)
        kpi["comparisons"]["yoy"] = {
            "title": "2010",
            "available": False,
            "value": None,
            "change": None,
            "current": None,
            "lookback_months": None,
            "note": f"no comparison: {reason}",
        }
    alone["countries"].update(comparison=None, previous_total_net=None, total_change=None)
    tree = parse(render_html(context(alone)))
    card = tree.find("div", "kpi-net_sales")
    assert [c.text for c in card.iter("div", "kpi-change")] == ["no comparison with 2010"]
    summary = tree.iter("section", "section-summary")[0].text
    assert f"There is no comparison with 2010: {reason}, so no change is shown" in summary
    header = [th.text for th in tree.find("table", "countries").iter("th")]
    assert "Change" not in header and "Biggest customer" in header
    cover = tree.iter("section", "section-cover")[0].text
    assert f"no comparison with 2010: {reason}" in cover


def test_cancellations_are_products_with_fees_and_corrections_beside_them(
    html_tree: Element,
) -> None:
    summary = html_tree.iter("section", "section-summary")[0].text
    assert "fees and adjustments cancelled (£361k, 553 lines)" in summary
    assert "the largest 80,995 × PAPER CRAFT , LITTLE BIRDIE, £168k" in summary
    kinds = html_tree.find("table", "kinds")
    rows = [[td.text for td in tr.iter("td")] for tr in kinds.iter("tr")[1:]]
    assert [r[1:3] for r in rows] == [
        ["7,396", "−£169,460.52"],
        ["553", "−£360,897.31"],
        ["583", "−£288,892.78"],
    ]
    largest = html_tree.find("table", "corrections").iter("tr")[1]
    assert [td.text for td in largest.iter("td")][:5] == [
        "C581484",
        "9 Dec 2011",
        "23843 PAPER CRAFT , LITTLE BIRDIE",
        "−80,995",
        "−£168,469.60",
    ]
    revenue = html_tree.iter("section", "section-revenue")[0].text
    assert "1,962 placed invoices with a zero amount" in revenue
    assert "59 invoices wholly reversed by corrections" in revenue


def test_month_periods_show_the_previous_month_too(figures: dict[str, Any]) -> None:
    month = copy.deepcopy(figures)
    month["period"].update(kind="month", label="2011-11", title="November 2011")
    for kpi in month["kpis"]:
        kpi["comparisons"]["mom"] = {
            "title": "October 2011",
            "available": True,
            "value": kpi["value"],
            "change": 0.1,
            "current": None,
            "lookback_months": None,
            "note": None,
        }
    tree = parse(render_html(context(month)))
    card = tree.find("div", "kpi-net_sales")
    changes = [c.text for c in card.iter("div", "kpi-change")]
    assert len(changes) == 2 and changes[1] == "▲ +10.0% vs October 2011 (£8.99m)"


def test_an_account_is_new_only_without_sales_in_the_comparison(figures: dict[str, Any]) -> None:
    # net sales below zero then (returns only) give no percentage, but it was no new account
    variant = copy.deepcopy(figures)
    top = variant["accounts"]["top"]
    top[0].update(previous_net=0.0, change=top[0]["net"], relative_change=None)
    top[1].update(previous_net=-1560.0, change=top[1]["net"] + 1560.0, relative_change=None)
    rows = parse(render_html(context(variant))).iter("table", "accounts")[0].iter("tr")[1:]
    cells = [[td.text for td in row.iter("td")] for row in rows[:2]]
    assert (cells[0][3], cells[0][4]) == ("£0", "new")
    assert (cells[1][3], cells[1][4]) == ("−£1,560", "–")


def test_top_three_recommendations_on_the_summary(html_tree: Element, figures: dict) -> None:
    summary = html_tree.iter("section", "section-summary")[0]
    titles = [r.find("span", "rec-title").text for r in summary.iter("div", "rec")]
    ranked = sorted(figures["recommendations"], key=lambda r: r["rank"])
    assert titles == [r["title"] for r in ranked[:3]]
    assert summary.find("span", "at-stake").text == "£562k at stake"


def test_a_recommendation_that_cannot_be_estimated_says_so(figures: dict[str, Any]) -> None:
    unknown = copy.deepcopy(figures)
    unknown["recommendations"][0].update(at_stake=None, basis="cannot be estimated: no back-test")
    tree = parse(render_html(context(unknown)))
    first = tree.iter("section", "section-recommendations")[0].find("div", "rec")
    assert first.find("span", "at-stake").text == "not estimated"
    assert first.find("p", "basis").text == "At stake: cannot be estimated: no back-test."


def test_partial_period_is_announced(html_tree: Element) -> None:
    cover = html_tree.iter("section", "section-cover")[0]
    assert "December has 9 of 31 days" in cover.find("p", "note-partial").text


def test_data_is_escaped_never_interpreted(figures: dict[str, Any]) -> None:
    evil = copy.deepcopy(figures)
    evil["countries"]["rows"][1]["country"] = EVIL_COUNTRY
    evil["recommendations"][0]["text"] = EVIL_TEXT
    evil["data_quality"]["non_product_codes"][0]["stock_code"] = EVIL_COUNTRY
    html = render_html(context(evil))
    tree = parse(html)
    assert not [i for i in tree.iter("img") if i.attrs.get("src") == "http://x"]
    assert not tree.iter("script")
    countries = tree.find("table", "countries")
    names = [row.iter("td")[0].text for row in countries.iter("tr")[1:]]
    assert f"{EVIL_COUNTRY} account" in names  # the Netherlands' row: one account
    assert EVIL_TEXT in tree.find("section", "section-recommendations").text
    assert "{{ 7*7 }}" in html and "&lt;img src=http://x&gt;" in html


def test_a_user_template_overrides_the_built_in_one(tmp_path: Path, figures: dict) -> None:
    (tmp_path / "_cover.html").write_text(
        '<section id="cover" class="section section-cover"><h1>Branded {{ brief.company }}'
        "</h1></section>\n",
        encoding="utf-8",
    )
    tree = parse(render_html(context(figures), templates_dir=tmp_path))
    cover = tree.iter("section", "section-cover")[0]
    assert cover.find("h1").text == "Branded London Gift Shop"
    assert not cover.iter("nav")  # the built-in cover's contents are gone
    assert tree.iter("section", "section-summary")  # everything else is built in


def test_an_override_can_extend_the_built_in_template_and_change_one_block(
    tmp_path: Path, figures: dict
) -> None:
    (tmp_path / "_cover.html").write_text(
        '{% extends "default:_cover.html" %}\n'
        '{% block cover_band %}<div class="cover-band"><img alt="logo">'
        "<h1>Branded {{ brief.company }}</h1></div>{% endblock %}\n",
        encoding="utf-8",
    )
    tree = parse(render_html(context(figures), templates_dir=tmp_path))
    built_in = parse(render_html(context(figures)))
    cover = tree.iter("section", "section-cover")[0]
    assert cover.find("h1").text == "Branded London Gift Shop"
    assert cover.iter("img")
    # the blocks it leaves alone are the built-in ones: the facts and the contents
    before = built_in.iter("section", "section-cover")[0]
    assert cover.find("dl").text == before.find("dl").text
    assert [a.text for a in cover.iter("a")] == [a.text for a in before.iter("a")]
    assert len(cover.iter("a")) == len(SECTIONS) - 1


def test_the_context_templates_dir_is_used_by_default(tmp_path: Path, figures: dict) -> None:
    (tmp_path / "brief.css").write_text("h1 { color: #123456; }\n", encoding="utf-8")
    html = render_html(context(figures, templates_dir=tmp_path))
    assert "#123456" in html and "bookmark-level" not in html


def test_a_missing_templates_dir_is_a_config_error(tmp_path: Path, figures: dict) -> None:
    with pytest.raises(ConfigError, match=r"templates_dir: .*nowhere is not a folder"):
        render_html(context(figures), templates_dir=tmp_path / "nowhere")


def test_missing_charts_are_reported_in_their_place(html_tree: Element, figures: dict) -> None:
    assert len(html_tree.iter("img")) == len(CHARTS)
    tree = parse(render_html(context(figures, charts={})))
    assert not tree.iter("img")
    assert tree.find("figure", "chart-net_sales").find("p", "empty").text


def test_thin_figures_render(figures: dict[str, Any]) -> None:
    thin = copy.deepcopy(figures)
    thin["countries"]["rows"] = []
    thin["segments"]["action_lists"] = []
    thin["recommendations"] = []
    note = "Only 4 complete months of history: too few for a forecast."
    for forecast in thin["forecast"].values():
        forecast.update(points=[], scores=[], model="", note=note, partial_note=None)
    tree = parse(render_html(context(thin, charts=draw_charts(thin))))
    assert "No sales by country" in tree.find("section", "section-countries").text
    assert f"No forecast for net sales: {note}" in tree.find("section", "section-forecast").text
    assert "No rule fired" in tree.find("section", "section-recommendations").text


def test_sample_data_banner(sample_figures: dict[str, Any]) -> None:
    tree = parse(render_html(context(sample_figures)))
    banner = tree.find("div", "sample-banner")
    assert banner.text == "SAMPLE DATA — generated, not LGS transactions"


# --------------------------------------------------------------------------- URL fetcher


def test_the_url_fetcher_refuses_the_network_and_foreign_files(tmp_path: Path) -> None:
    fetcher = url_fetcher(tmp_path)
    for url in (
        "http://example.com/x.png",
        "https://example.com/x.css",
        "ftp://x/y",
        "file:///etc/passwd",
        "file://example.com/etc/passwd",
    ):
        with pytest.raises(RefusedUrl):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 5


def test_the_url_fetcher_serves_fonts_templates_and_data(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    fetcher = url_fetcher(tmp_path)
    font = (render.FONT_DIR / "DejaVuSans.ttf").as_uri()
    assert fetcher.fetch(font).read(4) == b"\x00\x01\x00\x00"
    assert fetcher.fetch((tmp_path / "logo.svg").as_uri()).read().startswith(b"<svg")
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    escape = (tmp_path / ".." / tmp_path.name / "logo.svg").as_uri()
    assert fetcher.fetch(escape).read().startswith(b"<svg")
    with pytest.raises(RefusedUrl):
        url_fetcher(None).fetch((tmp_path / "logo.svg").as_uri())


def test_an_external_image_in_a_user_template_is_not_fetched(
    tmp_path: Path, figures: dict, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    (tmp_path / "brief.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Logo</h1>'
        '<img src="http://example.com/x.png"><p>after the logo</p>{% endblock %}',
        encoding="utf-8",
    )
    connections: list[Any] = []

    def no_network(self: socket.socket, address: Any) -> None:
        connections.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    ctx = context(figures, templates_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="lgs_reports.render"):
        pdf = render_pdf(render_html(ctx), context=ctx)
    assert connections == []
    assert "refused to fetch http://example.com/x.png" in caplog.text
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "after the logo" in text


# --------------------------------------------------------------------------- PDF


def test_page_count_is_sane(pdf: pypdf.PdfReader) -> None:
    assert 10 <= len(pdf.pages) <= 24


def test_pages_hold_the_headline_numbers(pages: list[str], figures: dict) -> None:
    everything = "\n".join(pages)
    assert "Executive brief" in pages[0] and "2011" in pages[0]
    assert "1 Dec 2009 – 9 Dec 2011" in pages[0]  # the data window, not the day of the run
    summary = pages[1]
    assert "£8.99m" in summary
    top = min(figures["recommendations"], key=lambda r: r["rank"])
    assert top["title"] in summary
    first_customer = figures["segments"]["action_lists"][0]["top"][0]["customer_id"]
    assert str(first_customer) in everything
    assert "£" in summary
    assert "SAMPLE DATA" not in everything
    assert f"page 2 of {len(pages)}" in summary


def test_one_bookmark_per_section(pdf: pypdf.PdfReader) -> None:
    outline = pdf.outline
    assert all(not isinstance(item, list) for item in outline)  # one level only
    assert [item.title for item in outline] == [title for _, title in SECTIONS]


def test_document_metadata(pdf: pypdf.PdfReader) -> None:
    meta = pdf.metadata
    assert meta.title == "London Gift Shop executive brief: 2011"
    assert meta.author == COMPANY
    assert meta.subject.startswith("Sales, customers, segments, forecast and recommendations")
    assert "RFM segments" in meta["/Keywords"]
    # dates come from the data (last invoice 9 Dec 2011 12:50 UK time), never the clock
    assert meta["/CreationDate"] == "D:20111209125000+00'00"
    assert meta["/ModDate"] == meta["/CreationDate"]


def test_fonts_are_embedded(pdf: pypdf.PdfReader) -> None:
    fonts: dict[str, Any] = {}
    for page in pdf.pages:
        for name, ref in page["/Resources"].get("/Font", {}).items():
            fonts[name] = ref.get_object()
    assert fonts
    for font in fonts.values():
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert "DejaVu" in font["/BaseFont"]


def test_sample_brief_says_so_and_renders_byte_identical(sample_figures: dict) -> None:
    first = render_brief(sample_figures, company=COMPANY, templates_dir=None)
    again = render_brief(sample_figures, company=COMPANY, templates_dir=None)
    assert first[0] == again[0]
    assert first[1] == again[1]
    text = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(first[1])).pages]
    assert "SAMPLE DATA" in text[0]
    assert all("SAMPLE DATA" in page for page in text)  # the running footer


def test_render_brief_reports_its_timings(brief: Any, timings: dict[str, float]) -> None:
    assert set(timings) == {"draw", "html", "layout", "write"}
    assert all(t >= 0 for t in timings.values())


# WeasyPrint imported in a fresh interpreter: `import_weasyprint` with the processes it
# starts counted, and the shared libraries the process then has mapped
_IMPORT_PROBE = """
import json, subprocess, sys
started = []
popen = subprocess.Popen.__init__
def counted(self, args, *rest, **options):
    started.append(args if isinstance(args, str) else args[0])
    popen(self, args, *rest, **options)
subprocess.Popen.__init__ = counted
{before}
{importer}
mapped = sorted({{line.split()[-1] for line in open("/proc/self/maps") if ".so" in line}})
json.dump({{"started": started, "mapped": mapped}}, sys.stdout)
"""


def _import_probe(importer: str, before: str = "") -> dict[str, Any]:
    code = _IMPORT_PROBE.format(before=before, importer=importer)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the search it skips is Linux's")
def test_weasyprint_is_imported_with_the_same_libraries_and_no_process() -> None:
    plain = _import_probe("import lgs_reports.render\nimport weasyprint")
    ours = _import_probe("from lgs_reports.render import import_weasyprint; import_weasyprint()")
    assert plain["started"]  # ctypes.util.find_library's ldconfig and gcc
    assert ours["started"] == []
    pango = [path for path in plain["mapped"] if "libpango-1.0" in path]
    assert pango and ours["mapped"] == plain["mapped"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the search it skips is Linux's")
def test_weasyprint_is_imported_with_the_search_where_the_sonames_are_not_enough() -> None:
    # the first import of WeasyPrint's libraries fails, as where a library loads only
    # by the name find_library gives: the import is made again, with the search
    fails_once = """
import importlib.abc
class FailsOnce(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "weasyprint.text.ffi":
            sys.meta_path.remove(self)
            raise OSError("cannot load library 'libpango-1.0.so.0'")
sys.meta_path.insert(0, FailsOnce())
"""
    probe = _import_probe(
        "from lgs_reports.render import import_weasyprint\n"
        "assert import_weasyprint().HTML(string='<p>x</p>').write_pdf().startswith(b'%PDF')",
        before=fails_once,
    )
    assert probe["started"]  # the second import searched
    assert any("libpango-1.0" in path for path in probe["mapped"])
