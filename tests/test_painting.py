"""The later pages of the PDF are painted by a second process: the same bytes as one
process paints, and a page that cannot be taken over as it was painted there is painted
here, as is every page of a painter that fails or dies."""

from __future__ import annotations

import base64
import io
import logging
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import weasyprint
from PIL import Image

from lgs_reports import painting
from lgs_reports.render import FONT_DIR

FACES = "".join(
    f"@font-face {{ font-family: {family}; font-weight: {weight};"
    f" src: url({(FONT_DIR / file).as_uri()}) }}"
    for family, weight, file in (
        ("Sans", "normal", "DejaVuSans.ttf"),
        ("Sans", "bold", "DejaVuSans-Bold.ttf"),
        ("Serif", "normal", "DejaVuSerif.ttf"),
    )
)
STYLE = FACES + (
    "body { font-family: Sans; font-size: 9pt } section { break-before: page }"
    " .faded { opacity: 0.6 }"
    " .band { height: 12px; background: linear-gradient(90deg, rgba(31, 78, 121, 0.5), #d97706) }"
    " .dots { height: 12px; background: radial-gradient(#1f4e79, #d97706) 0 0 / 8px 8px }"
)
# Each page's own words, so that every page meets glyphs of its own
WORDS = [
    "Net sales fell",
    "Quarterly jumps",
    "Wholesale buyers: £1,234.56",
    "Ævar's größte Öffnung",
]


def chart(number: int) -> str:
    """An SVG with what makes shared resources: a gradient and a pattern (patterns), an
    opacity group (a form), a mask and a blend (graphics states named by count), a fill
    opacity of its own (a graphics state named by its value), text."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80"><defs>'
        '<linearGradient id="g"><stop offset="0" stop-color="#1f4e79"/>'
        '<stop offset="1" stop-color="#d97706"/></linearGradient>'
        '<pattern id="p" width="8" height="8" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" fill="#c62828"/></pattern>'
        '<mask id="m"><rect width="100" height="40" fill="white" fill-opacity="0.5"/></mask>'
        '<filter id="f"><feBlend mode="multiply"/></filter></defs>'
        '<rect y="40" width="60" height="20" fill="#1f4e79" mask="url(#m)"/>'
        '<rect x="140" y="40" width="60" height="20" fill="#d97706" filter="url(#f)"/>'
        '<rect width="100" height="40" fill="url(#g)"/>'
        '<rect x="100" width="100" height="40" fill="url(#p)"/>'
        '<g opacity="0.5"><circle cx="40" cy="60" r="15" fill="#2e7d32"/></g>'
        f'<rect x="70" y="45" width="30" height="10" fill="#2e7d32" fill-opacity="0.{number}"/>'
        f'<text x="10" y="75" font-family="Sans" font-size="9">{WORDS[number - 1]}</text>'
        "</svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def page(number: int, extra: str = "") -> str:
    return (
        f"<section><h1>Section {number}</h1><p>{WORDS[number - 1]} {extra}</p>"
        f'<div class="faded">Faded {number}</div><div class="band"></div><div class="dots"></div>'
        f'<img src="{chart(number)}"></section>'
    )


def written(body: str, painters: int) -> bytes:
    """The document laid out afresh (a write fills the document's fonts) and written."""
    document = weasyprint.HTML(string=f"<style>{STYLE}</style>{body}").render()
    return painting.write_pdf(document, painters=painters, pdf_identifier=False)


@pytest.fixture
def debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="lgs_reports.painting")
    return caplog


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage() for record in caplog.records if record.name == "lgs_reports.painting"
    ]


def test_this_weasyprint_is_one_the_painter_was_proven_on():
    """A new WeasyPrint release paints with one process until these tests pass on it and
    it is added to PROVEN_WEASYPRINT."""
    assert weasyprint.__version__.startswith(painting.PROVEN_WEASYPRINT), weasyprint.__version__


def test_the_painters_pages_make_the_bytes_one_process_makes(debug, monkeypatch):
    renamed: list[dict[str, dict[str, str]]] = []
    real = painting._renamed
    monkeypatch.setattr(
        painting, "_renamed", lambda ops, renames: renamed.append(renames) or real(ops, renames)
    )
    body = "".join(page(number) for number in range(1, 5))
    one = written(body, painters=1)
    assert renamed == []  # one process: nothing taken over
    two = written(body, painters=2)
    assert one.startswith(b"%PDF-") and two == one
    assert messages(debug) == ["pages 3-4 of 4 were painted by a second process"]
    # the painter's forms, graphics states and patterns were named by counts that start
    # at 0 there; here they took the names the count gives after pages 1-2
    kinds = {kind for renames in renamed for kind, names in renames.items() if names}
    assert kinds == {"ExtGState", "XObject", "Pattern"}
    assert all(
        name != here
        for renames in renamed
        for names in renames.values()
        for name, here in names.items()
    )


def png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "#1f4e79").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ('<span style="font-family: Serif">in a serif</span>', "it uses a font not used before it"),
        ("\ue000", "it has a glyph missing from its font"),
        (f'<img src="{png()}">', "it has an image"),
    ],
    ids=["new font", "missing glyph", "image"],
)
def test_a_page_that_could_differ_is_painted_here_with_those_after_it(
    debug, monkeypatch, extra, why
):
    monkeypatch.setattr(painting, "_split", lambda pages: 2)  # the painter's: pages 3 and 4
    body = page(1) + page(2) + page(3, extra) + page(4)
    assert written(body, painters=2) == written(body, painters=1)
    assert messages(debug) == [f"page 3 painted here: {why}"]


def test_a_later_page_that_could_differ_is_painted_here_after_the_painters_first(
    debug, monkeypatch
):
    monkeypatch.setattr(painting, "_split", lambda pages: 2)
    body = page(1) + page(2) + page(3) + page(4, "\ue000")
    assert written(body, painters=2) == written(body, painters=1)
    assert messages(debug) == [
        "page 4 painted here: it has a glyph missing from its font",
        "pages 3-3 of 4 were painted by a second process",
    ]


def test_a_page_calls_each_counted_resource_by_its_name_here():
    renames = {
        "ExtGState": {"s0": "s3"},
        "XObject": {"x0": "x9"},
        "Pattern": {"p0": "p2", "p1": "p4"},
        "Shading": {"s0": "s5"},
    }
    operators = [
        b"/s0 gs",
        b"/s0 sh",
        b"/x0 Do",
        b"0.5 /p0 scn",
        b"/p1 SCN",
        b"/a0.5 gs",
        b"<0073> Tj",
    ]
    assert painting._renamed(operators, renames) == [
        b"/s3 gs",
        b"/s5 sh",
        b"/x9 Do",
        b"0.5 /p2 scn",
        b"/p4 SCN",
        b"/a0.5 gs",
        b"<0073> Tj",
    ]


class _Font:
    def __init__(self, widths: dict[int, int]) -> None:
        self.widths = widths
        self.to_unicode = {glyph: "x" for glyph in widths}
        self.missing: dict[int, int] = {}


class _Stream:
    def __init__(self, fonts: dict[int, _Font]) -> None:
        self._fonts = fonts
        self._resources = {kind: {} for kind in painting._COUNTED}
        self.stream = [b"q"]


def test_a_glyph_first_used_here_at_another_width_is_not_taken_over():
    """WeasyPrint keeps a glyph's width from its first use, rounded at that size (the
    DejaVu fonts round alike at every size, so this is built by hand)."""
    stream = _Stream({7: _Font({36: 633})})
    painted = painting._Page(
        operators=[b"q", b"/F 9 Tf"],
        resources={"XObject": [("x0", object())]},
        glyphs=[(7, [(36, 634), (40, 500)], [(40, "y")], 0)],
        images=0,
    )
    assert painting._take(painted, stream) == "a glyph of it was first used at another width"
    # nothing was changed
    assert stream._fonts[7].widths == {36: 633} and stream._fonts[7].to_unicode == {36: "x"}
    assert stream._resources["XObject"] == {} and stream.stream == [b"q"]


@pytest.mark.parametrize("how", ["fails", "is killed"])
def test_a_painter_that_fails_or_dies_leaves_the_pages_to_this_process(debug, monkeypatch, how):
    def broken(page: Any, stream: Any, scale: float) -> Any:
        if how == "fails":
            raise ValueError("a bug in the painter")
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(painting, "_painted_here", broken)  # the fork inherits it
    body = "".join(page(number) for number in range(1, 5))
    assert written(body, painters=2) == written(body, painters=1)
    said = "ValueError: a bug in the painter" if how == "fails" else "it ended (killed by SIGKILL)"
    assert messages(debug) == [
        f"the second painter failed ({said}): the PDF's pages were painted by one",
        "page 3 painted here: the painter ended without its pages",
    ]


def children() -> set[int]:
    return {
        int(pid)
        for task in Path(f"/proc/{os.getpid()}/task").iterdir()
        for pid in (task / "children").read_text().split()
    }


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_an_error_here_while_the_painter_paints_leaves_no_painter_behind(monkeypatch):
    before = children()
    document = weasyprint.HTML(
        string=f"<style>{STYLE}</style>" + "".join(page(number) for number in range(1, 5))
    ).render()
    monkeypatch.setattr(document.pages[1], "paint", lambda stream, scale=1: 1 / 0, raising=False)
    with pytest.raises(ZeroDivisionError):
        painting.write_pdf(document, painters=2, pdf_identifier=False)
    assert children() == before
