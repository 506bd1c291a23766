"""The PDF written with its later pages painted by a second process.

WeasyPrint writes a laid-out document in one pass (`generate_pdf`): for each page
it makes a content stream and paints the page into it (text, rules, the SVG
charts), which is nine tenths of the write; then it adds the fonts, the shared
resources and the outline. Painting a page reads only that page, and writes only
into its own stream and into three things the pages share: the resources
(graphics states, forms, patterns, shadings), the images, and the fonts (each
glyph used, with its width and its text).

So `write_pdf` forks a painter once the document is laid out (the pages come with
the fork: they hold Pango objects that cannot be sent), which paints the later
pages while this process paints the first ones. Then, page by page, this process
takes the painter's operators and adds what the page added to the shared things,
exactly as painting it here would have:

- a resource named by what it is (``a0.5``, a fill opacity of 0.5) is added if
  missing; one named by a count (``x12``, the 13th form) gets the name the count
  gives here, and the page's operators that use it are renamed;
- the glyphs the page met first are added in the order it met them.

The PDF is byte-identical to one painted by a single process (the tests compare
them). A page whose operators could differ is painted here instead, with every
page after it: one that met a glyph already used here at another width (WeasyPrint
keeps a glyph's width from its first use, rounded at that size), a glyph missing
from its font, a font not used here yet, or an image. So is every page of a painter
that fails or dies: the PDF is the same, only later.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lgs_reports.forks import Forked, ended

log = logging.getLogger("lgs_reports.painting")

# A resource named by a count: its name is the prefix and the number of resources of
# its kind before it; and how a page's operator names it (`pydyf.Stream`).
_COUNTED = {
    "ExtGState": (re.compile(r"s\d+"), re.compile(rb"/(s\d+) gs")),
    "XObject": (re.compile(r"x\d+"), re.compile(rb"/(x\d+) Do")),
    "Pattern": (re.compile(r"p\d+"), re.compile(rb"(.* )?/(p\d+) (scn|SCN)", re.DOTALL)),
    "Shading": (re.compile(r"s\d+"), re.compile(rb"/(s\d+) sh")),
}

# Paint cost of a page, in boxes: an element of an SVG chart costs about five boxes.
_SVG_ELEMENT_COST = 5

# The WeasyPrint releases whose internals this module and `chart_frames` were proven
# against (the names it gives resources, what a page's painting shares, how it makes an
# SVG image): tests/test_painting.py and the typesetter's tests compare the bytes; on
# any other release every page is painted by one process and charts are not framed.
PROVEN_WEASYPRINT = ("70.",)


@dataclass
class _Page:
    """What painting one page made: its operators and what it added to the shared things
    (each in the order it was added)."""

    operators: list[Any]
    resources: dict[str, list[tuple[str, Any]]]
    glyphs: list[tuple[int, list[tuple[int, int]], list[tuple[int, str]], int]]
    images: int


def write_pdf(document: Any, *, painters: int = 1, **options: Any) -> bytes:
    """``document.write_pdf(**options)``; with ``painters=2`` the later pages are painted
    by a forked process, and the bytes are the same."""
    pages = document.pages
    first = _split(pages) if painters > 1 and _splittable(pages, options) else len(pages)
    if first >= len(pages):
        return document.write_pdf(**options)
    try:
        painter = _Painter(document, first, options)
    except OSError:  # no process to be had
        return document.write_pdf(**options)
    try:
        with _painted_by(pages[first:], painter.paint):
            pdf = document.write_pdf(**options)
    finally:
        painter.close()
    if painter.taken:
        log.debug(
            "pages %d-%d of %d were painted by a second process",
            first + 1,
            first + painter.taken,
            len(pages),
        )
    return pdf


def proven_weasyprint() -> bool:
    """Whether the WeasyPrint installed is a release that the painter and the chart frames
    (`chart_frames`), which use its internals, were proven on (`PROVEN_WEASYPRINT`)."""
    import weasyprint

    if weasyprint.__version__.startswith(PROVEN_WEASYPRINT):
        return True
    log.debug("WeasyPrint %s is not proven: one painter, no frames", weasyprint.__version__)
    return False


def _splittable(pages: list[Any], options: dict[str, Any]) -> bool:
    """Whether the pages' painting touches only what `_Painter` knows how to take over:
    a proven WeasyPrint, no tagged PDF (its marks are numbered across pages), no form
    fields."""
    if not proven_weasyprint():
        return False
    if options.get("pdf_tags") or options.get("pdf_variant") or options.get("pdf_forms"):
        return False
    return len(pages) > 1 and not any(fields for page in pages for fields in page.forms.values())


def _split(pages: list[Any]) -> int:
    """The first page the painter paints: the pages before it cost about half."""
    costs = [_cost(page) for page in pages]
    half, total = sum(costs) / 2, 0
    for index, cost in enumerate(costs):
        total += cost
        if total >= half:
            return index + 1
    return len(pages)


def _cost(page: Any) -> int:
    from weasyprint.images import SVGImage

    cost = 0
    for box in page._page_box.descendants():
        cost += 1
        image = getattr(box, "replacement", None)
        if isinstance(image, SVGImage):
            cost += _SVG_ELEMENT_COST * _elements(image._svg.tree)
    return cost


def _elements(tree: Any) -> int:
    """The elements of an SVG tree, counted in its parsed XML: iterating its `Node`s would
    make each child `Node` and cascade its style, a quarter of a second for the brief's
    charts before the fork, which the process that draws each chart does anyway."""
    return sum(1 for _ in tree._etree_node.iter())


@contextlib.contextmanager
def _painted_by(pages: list[Any], paint: Any) -> Iterator[None]:
    """Have `generate_pdf` call ``paint(index, page, stream, scale)`` for ``pages``
    (an attribute of each page object shadows `Page.paint` for the block)."""
    for index, page in enumerate(pages):
        page.paint = _bound(paint, index, page)
    try:
        yield
    finally:
        for page in pages:
            with contextlib.suppress(AttributeError):
                del page.paint


def _bound(paint: Any, index: int, page: Any) -> Any:
    return lambda stream, scale=1: paint(index, page, stream, scale)


class _Painter:
    """The forked painter of ``document.pages[first:]``, and the pages it sends back."""

    def __init__(self, document: Any, first: int, options: dict[str, Any]) -> None:
        self.first = first
        self._process = Forked(lambda writer: _paint_in_child(document, first, options, writer))
        self._pages: list[_Page] | None = None
        self._painting_here = False
        self.taken = 0  # how many of its pages were taken as it painted them

    def paint(self, index: int, page: Any, stream: Any, scale: float) -> None:
        """Paint the painter's page ``index`` into ``stream`` (here, if it cannot be taken
        over as it was painted there)."""
        from weasyprint.document import Page

        if not self._painting_here:
            painted = self._painted(index)
            why = "the painter ended without its pages" if painted is None else None
            why = why or _take(painted, stream)
            if why is None:
                self.taken += 1
                return
            log.debug("page %d painted here: %s", self.first + index + 1, why)
            self._painting_here = True
        Page.paint(page, stream, scale)

    def _painted(self, index: int) -> _Page | None:
        if self._pages is None:
            self._pages = self._receive()
        return self._pages[index] if index < len(self._pages) else None

    def _receive(self) -> list[_Page]:
        try:
            kind, value = self._process.reader.recv()
        except (EOFError, OSError):
            kind, value = "error", f"it ended ({ended(self._process.reap())})"
        if kind == "pages":
            return value
        log.warning("the second painter failed (%s): the PDF's pages were painted by one", value)
        return []

    def close(self) -> None:
        """Reap the painter; one still painting (after an error here) is killed."""
        self._process.close(finished=self._pages is not None)


def _take(painted: _Page, stream: Any) -> str | None:
    """Add a page painted by the painter to ``stream`` and the shared things, as painting
    it here would have; or say why it could differ (and change nothing)."""
    fonts = stream._fonts
    if painted.images:
        return "it has an image"
    for key, widths, _, missing in painted.glyphs:
        if missing:
            return "it has a glyph missing from its font"
        if key not in fonts:
            return "it uses a font not used before it"
        known = fonts[key].widths
        if any(known.get(glyph, width) != width for glyph, width in widths):
            return "a glyph of it was first used at another width"
    renames: dict[str, dict[str, str]] = {}
    for kind, added in painted.resources.items():
        shared = stream._resources[kind]
        counted = _COUNTED[kind][0]
        renames[kind] = {}
        for name, resource in added:
            if counted.fullmatch(name):
                here = renames[kind][name] = f"{name[0]}{len(shared)}"
                shared[here] = resource
            elif name not in shared:
                shared[name] = resource
    for key, widths, texts, _ in painted.glyphs:
        font = fonts[key]
        for glyph, width in widths:
            font.widths.setdefault(glyph, width)
        for glyph, text in texts:
            font.to_unicode.setdefault(glyph, text)
    stream.stream[:] = _renamed(painted.operators, renames)
    return None


def _renamed(operators: list[Any], renames: dict[str, dict[str, str]]) -> list[Any]:
    """The operators, each counted resource called by its name here."""
    if not any(renames.values()):
        return operators
    out = []
    for operator in operators:
        for kind, names in renames.items():
            if (
                names
                and isinstance(operator, bytes)
                and (found := _COUNTED[kind][1].fullmatch(operator))
            ):
                group = found.lastindex - 1 if kind == "Pattern" else 1
                name = found.group(group).decode()
                if name in names:
                    start, end = found.span(group)
                    operator = operator[:start] + names[name].encode() + operator[end:]
                break
        out.append(operator)
    return out


def _paint_in_child(document: Any, first: int, options: dict[str, Any], writer: Any) -> None:
    """The painter's life: run WeasyPrint's write, painting only pages ``first`` on and
    noting what each added; send them when the last is painted, and exit at once."""
    try:
        pages = document.pages
        painted: list[_Page] = []

        def skip(index: int, page: Any, stream: Any, scale: float) -> None:
            pass

        def paint(index: int, page: Any, stream: Any, scale: float) -> None:
            painted.append(_painted_here(page, stream, scale))
            if len(painted) == len(pages) - first:
                _send(writer, ("pages", painted))
                os._exit(0)  # the rest of the write is this process's, not the painter's

        with _painted_by(pages[:first], skip), _painted_by(pages[first:], paint):
            document.write_pdf(**options)
        raise RuntimeError("WeasyPrint did not paint every page")
    except BaseException as exc:
        _send(writer, ("error", f"{type(exc).__name__}: {exc}"))


def _painted_here(page: Any, stream: Any, scale: float) -> _Page:
    """Paint ``page`` into ``stream`` and note what it added to the shared things."""
    from weasyprint.document import Page

    resources = {kind: stream._resources[kind] for kind in _COUNTED}
    names_before = {kind: set(shared) for kind, shared in resources.items()}
    fonts = stream._fonts
    before = {
        key: (set(font.widths), set(font.to_unicode), len(font.missing))
        for key, font in fonts.items()
    }
    images_before = len(stream._images)
    Page.paint(page, stream, scale)
    glyphs = []
    for key, font in fonts.items():
        widths, texts, missing = before.get(key, (set(), set(), 0))
        glyphs.append(
            (
                key,
                [(glyph, width) for glyph, width in font.widths.items() if glyph not in widths],
                [(glyph, text) for glyph, text in font.to_unicode.items() if glyph not in texts],
                len(font.missing) - missing,
            )
        )
    return _Page(
        operators=stream.stream,
        resources={
            kind: [
                (name, value) for name, value in shared.items() if name not in names_before[kind]
            ]
            for kind, shared in resources.items()
        },
        glyphs=[entry for entry in glyphs if entry[0] not in before or any(entry[1:])],
        images=len(stream._images) - images_before,
    )


class _PdfPickler(pickle.Pickler):
    """Sends WeasyPrint's streams (forms and patterns; they hold C pointers) as the plain
    `pydyf.Stream` that the PDF writes of them."""

    def reducer_override(self, obj: Any) -> Any:
        import pydyf
        from weasyprint.pdf.stream import Stream

        if isinstance(obj, Stream):
            return pydyf.Stream, (obj.stream, obj.extra, obj.compress)
        return NotImplemented


def _send(writer: Any, message: tuple[Any, ...]) -> None:
    buffer = io.BytesIO()
    _PdfPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # nobody left to tell
        writer.send_bytes(buffer.getbuffer())
