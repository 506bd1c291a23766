"""The brief as HTML (Jinja) and PDF (WeasyPrint), from the figures document and its charts.

API (called by the report pipeline)::

    BriefContext(figures, charts, company, templates_dir=None, table_rows=12)
    render_html(context, *, templates_dir=None) -> str
    render_pdf(html, *, context, templates_dir=None) -> bytes
    render_brief(figures, *, company, templates_dir, timings=None, charts=None)
        -> tuple[str, bytes]  # (html, pdf): charts, then HTML, then PDF
    prepare(templates_dir)  # compile the templates and warm WeasyPrint up, ahead of a brief

``templates_dir`` of `render_html`/`render_pdf` defaults to the context's. A
``templates_dir`` that is not a folder raises `ConfigError`; figures that lack
a key the templates need raise jinja2's ``UndefinedError`` (a bug, not a user
error: figures.json has one schema).

Templates: ``templates/brief.html`` extends ``base.html`` and includes one
partial per section (``_cover.html`` ... ``_quality.html``), macros live in
``_macros.html`` and the stylesheet in ``brief.css`` (inlined by ``base.html``).
A user's ``templates_dir`` (``[report] templates_dir``) comes first in a
ChoiceLoader, so any of these files (a logo on the cover, the colours) can be
overridden by a file of the same name there; relative URLs in the HTML resolve
in that folder. Autoescape is on for ``.html``: text from the data (countries,
descriptions, recommendation texts) is always shown literally, never
interpreted as markup or as template code. The filters (`register_filters`)
come from `lgs_reports.formatting`.

Reproducibility: the same figures give a byte-identical PDF. WeasyPrint 70
does not read ``SOURCE_DATE_EPOCH`` (verified in its source); the PDF's
CreationDate/ModDate come from ``<meta name=dcterms.created/modified>``, which
``base.html`` sets to the data's last invoice (`BriefContext.document_date`),
never the wall clock. fontTools, which subsets the embedded fonts, does read
``SOURCE_DATE_EPOCH`` for each subset's "modified" time: `render_pdf` sets it
to the same moment while it writes and restores it afterwards (the process
environment is shared: do not write two PDFs at once in threads). No random
file identifier is written.

Nothing in the brief depends on the clock: the same figures give the same PDF on
any day, so a rerun (a retry the next morning) reuses the archived revision and
emails nobody twice. When a brief was made is in the archive's manifest.

Safety: WeasyPrint fetches resources only through `url_fetcher`, which serves
``file:`` URLs inside the package's templates folder, the user's templates
folder and matplotlib's font folder, and ``data:`` URIs. Anything else
(``http:``, ``https:``, ``ftp:``, other files) raises `RefusedUrl`; WeasyPrint
leaves that element out, and a warning naming the URL is logged, so an
external image in a template is never fetched.

Fonts: DejaVu Sans, from matplotlib's own font folder (present wherever the
package runs), is declared with ``@font-face`` under its own name, "DejaVu
Sans", and embedded in the PDF (subsets of the regular and bold faces); the
charts' text, which names the same family, is set in the same files.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import functools
import importlib.util
import logging
import mimetypes
import os
import sys
import zoneinfo
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import jinja2

from lgs_reports import formatting, headlines, painting
from lgs_reports.chart_frames import Frames
from lgs_reports.errors import ConfigError
from lgs_reports.headlines import KpiCard
from lgs_reports.logs import step
from lgs_reports.resources import resource_dir
from lgs_reports.segment_names import hyphenated

log = logging.getLogger("lgs_reports.render")

TEMPLATE = "brief.html"
CHART_SCHEME = "lgs-chart"  # <img src="lgs-chart:NAME">: a chart another process is drawing


class ChartSource(Protocol):
    """Charts drawn by another process, read as they come (`lgs_reports.typesetter`)."""

    def names(self) -> list[str]:
        """The charts there will be, in the order they come (waiting for the list)."""

    def size(self, name: str) -> tuple[float, float]:
        """One chart's width and height in inches, known before it is drawn."""

    def svg(self, name: str) -> str:
        """One chart's SVG text (waiting for it)."""


def _matplotlib_fonts() -> Path:
    """matplotlib's own font folder (``matplotlib.get_data_path()``), found without importing
    matplotlib: the email shares this module's template environment and draws no chart."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise ImportError("matplotlib is not installed")
    return Path(spec.origin).with_name("mpl-data").joinpath("fonts", "ttf").resolve()


FONT_DIR = _matplotlib_fonts()

#: The sections of the brief, in order: (id, heading). The templates use the same ids.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("cover", "Cover"),
    ("summary", "Executive summary"),
    ("revenue", "Revenue"),
    ("growth", "What moved sales"),
    ("customers", "Customers"),
    ("retention", "Retention"),
    ("orders", "Orders"),
    ("countries", "Countries"),
    ("accounts", "Accounts"),
    ("products", "Products"),
    ("segments", "Customer segments"),
    ("forecast", "Forecast"),
    ("recommendations", "Recommendations"),
    ("quality", "Data quality and method"),
)


# --------------------------------------------------------------------------- the context


@dataclasses.dataclass(frozen=True)
class MigrationCell:
    count: int
    share: float  # of the row (previous segment)
    background: str  # CSS colour, darker for a larger share of the row
    dark: bool  # white text on a dark cell
    stayed: bool  # previous segment == current segment


@dataclasses.dataclass(frozen=True)
class MigrationRow:
    segment: str  # the previous segment ("Not scored": not a customer in the previous window)
    total: int
    cells: tuple[MigrationCell, ...]


@dataclasses.dataclass(frozen=True)
class BriefContext:
    """Everything the brief's templates render; nothing else reaches them.

    Fields:
        figures: the figures.json document (`lgs_reports.figures_json.build_figures`).
        charts: chart name -> SVG text, a ``data:`` URI (`lgs_reports.charts.draw_charts`)
            or a ``lgs-chart:NAME`` URL the PDF's URL fetcher is given the SVG of (`ChartSource`);
            a missing chart is reported in its place, never an error.
        company: shown on the cover, in the running header and as the PDF's author.
        templates_dir: the user's template folder, or None; its files override the
            built-in ones and the PDF may load files (a logo) from it.
        table_rows: the most rows a bounded table shows (non-product codes, action
            lists); the rest are summarised in one line.
    """

    figures: Mapping[str, Any]
    charts: Mapping[str, str]
    company: str
    templates_dir: Path | None = None
    table_rows: int = 12

    # ---- plain views of the figures (templates read these, not raw keys, where it helps)

    @property
    def period(self) -> Mapping[str, Any]:
        return self.figures["period"]

    @property
    def sample_data(self) -> bool:
        return bool(self.figures.get("sample_data"))

    @property
    def title(self) -> str:
        """The document title: ``London Gift Shop executive brief: November 2011``."""
        return f"{self.company} executive brief: {self.period['title']}"

    @property
    def subject(self) -> str:
        """The PDF subject line: what the brief covers."""
        window = self.figures.get("data_window") or {}
        text = (
            f"Sales, customers, segments, forecast and recommendations for {self.period['title']}"
            f" ({formatting.date(self.period['start'])} – {formatting.date(self.period['end'])})"
        )
        if window.get("last_invoice"):
            text += f"; data through {formatting.date(window['last_invoice'])}"
        return text + ("; SAMPLE DATA" if self.sample_data else "")

    @property
    def keywords(self) -> str:
        words = [
            self.company,
            "executive brief",
            str(self.period["label"]),
            "net sales",
            "RFM segments",
            "forecast",
        ]
        if self.sample_data:
            words.append("sample data")
        return ", ".join(words)

    @property
    def document_date(self) -> str:
        """The PDF's creation date: the data's last invoice, so that runs repeat.

        Invoice times are UK local time; the W3C date WeasyPrint needs carries
        the UK offset of that moment (+00:00 in winter, +01:00 in summer).
        """
        last = (self.figures.get("data_window") or {}).get("last_invoice")
        if not last:
            last = self.period.get("data_end") or self.period["end"]
        stamp = dt.datetime.fromisoformat(str(last)).replace(tzinfo=None)
        try:
            stamp = stamp.replace(tzinfo=zoneinfo.ZoneInfo("Europe/London"))
        except zoneinfo.ZoneInfoNotFoundError:  # no time-zone database: call it UTC
            stamp = stamp.replace(tzinfo=dt.UTC)
        return stamp.isoformat(timespec="seconds")

    @property
    def comparisons(self) -> dict[str, Mapping[str, Any]]:
        return {c["key"]: c for c in self.figures.get("comparisons") or []}

    @property
    def current_span(self) -> str:
        """The span the figures cover: ``1 Jan – 9 Dec 2011``."""
        current = self.comparisons.get("current")
        return current["title"] if current else str(self.period["title"])

    @property
    def missing_comparisons(self) -> list[Mapping[str, Any]]:
        """The comparisons the period does not get, each with its ``reason``."""
        return [c for c in self.comparisons.values() if not c.get("available", True)]

    @property
    def yoy(self) -> Mapping[str, Any] | None:
        """The year-earlier comparison, when there is one."""
        c = self.comparisons.get("yoy")
        return c if c and c.get("available", True) else None

    @property
    def kpis(self) -> dict[str, Mapping[str, Any]]:
        return {k["key"]: k for k in self.figures.get("kpis") or []}

    @property
    def kpi_cards(self) -> tuple[KpiCard, ...]:
        return headlines.kpi_cards(self.figures)

    @property
    def recommendations(self) -> list[Mapping[str, Any]]:
        return headlines.recommendations(self.figures)

    @property
    def top_recommendations(self) -> list[Mapping[str, Any]]:
        return headlines.top_recommendations(self.figures)

    @property
    def months_in_period(self) -> list[Mapping[str, Any]]:
        return [m for m in self.figures.get("monthly") or [] if m["in_period"]]

    @property
    def migration(self) -> tuple[MigrationRow, ...]:
        return _migration_rows((self.figures.get("segments") or {}).get("migration") or {})

    @property
    def migration_columns(self) -> tuple[str, ...]:
        """The matrix's column headings, with soft hyphens so that narrow columns break well."""
        columns = ((self.figures.get("segments") or {}).get("migration") or {}).get("columns")
        return tuple(hyphenated(c) for c in columns or ())

    @property
    def sections(self) -> tuple[tuple[str, str], ...]:
        return SECTIONS

    def chart(self, name: str) -> str | None:
        """The chart as a URI for ``<img src>``, or None when it was not drawn."""
        content = self.charts.get(name)
        if not content:
            return None
        if content.startswith(("data:", f"{CHART_SCHEME}:")):
            return content
        return "data:image/svg+xml;base64," + base64.b64encode(content.encode()).decode()


def _shade(share: float) -> tuple[str, bool]:
    """White to navy (the net-sales colour) by share; the text turns white on dark cells."""
    share = max(0.0, min(1.0, share))
    if share == 0:
        return "#ffffff", False
    low, high = (238, 243, 248), (31, 78, 121)
    weight = share**0.6  # spreads the small shares, which are most of the cells
    rgb = tuple(round(a + (b - a) * weight) for a, b in zip(low, high, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb), weight > 0.5


def _migration_rows(migration: Mapping[str, Any]) -> tuple[MigrationRow, ...]:
    rows = []
    columns = migration.get("columns") or []
    for name, counts in zip(
        migration.get("rows") or [], migration.get("counts") or [], strict=False
    ):
        total = sum(counts)
        cells = []
        for column, count in zip(columns, counts, strict=False):
            share = count / total if total else 0.0
            background, dark = _shade(share)
            cells.append(MigrationCell(count, share, background, dark, column == name))
        rows.append(MigrationRow(name, total, tuple(cells)))
    return tuple(rows)


# --------------------------------------------------------------------------- Jinja


def register_filters(env: jinja2.Environment) -> None:
    """The formatting filters of every brief template, registered in this one place."""
    env.filters.update(
        money=formatting.money,
        money_short=formatting.money_short,
        percent=formatting.percent,
        change=formatting.change,
        change_points=formatting.change_points,
        change_tone=formatting.change_tone,
        arrow=formatting.arrow,
        number=formatting.number,
        date=formatting.date,
        month=formatting.month,
        until=formatting.until,
        duration=formatting.duration,
        money_change=formatting.money_change,
        file_url=_file_url,
    )


def _file_url(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


def template_environment(templates_dir: str | Path | None = None) -> jinja2.Environment:
    """Jinja environment: the user's folder first (overrides), then the built-in templates.

    A built-in template is also ``default:NAME``, so that an override can extend the
    template it replaces and change one block (``{% extends "default:_cover.html" %}``)
    instead of copying it whole. One environment per folder and process: a template is
    compiled once (`prepare`), and recompiled only when its file changes.
    """
    return _environment(str(templates_dir) if templates_dir else None)


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: str | None) -> jinja2.Environment:
    builtin = jinja2.FileSystemLoader(str(resource_dir("templates")))
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        if not Path(templates_dir).is_dir():
            raise ConfigError(
                f"[report] templates_dir: {templates_dir} is not a folder; "
                "create it or leave the setting empty for the built-in templates"
            )
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders += [builtin, jinja2.PrefixLoader({"default": builtin}, delimiter=":")]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        finalize=formatting.literal_text,  # a bidi override in the data reorders nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    register_filters(env)
    env.globals["font_dir"] = FONT_DIR
    return env


def prepare(templates_dir: str | Path | None) -> None:
    """Do now what every brief does first: compile the templates, and start WeasyPrint's
    fonts and text layout on a line of the brief's type. The typesetter does it while
    the figures are being made; the brief's bytes are the same either way."""
    weasyprint = import_weasyprint()
    env = template_environment(templates_dir)
    for name in env.list_templates(filter_func=_brief_template):
        env.get_template(name)
    weasyprint.HTML(string=_WARM_UP).render().write_pdf()


def import_weasyprint() -> Any:
    """WeasyPrint, imported without searching for its libraries by running programs.

    For each library WeasyPrint tries several names, the soname that Linux's dynamic
    loader finds (``libpango-1.0.so.0``) after names of other systems; for each name
    that does not load as it is, cffi asks ``ctypes.util.find_library``, which runs
    ldconfig, gcc and ld: about 30 processes and a third of a second of CPU, taken from
    the queries the import overlaps. During the import find_library answers nothing,
    so that each library is loaded by its soname, as the search would have found it.
    Where that fails, the import is made again with the search (WeasyPrint's message
    about missing libraries is then printed once, by that import).
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = _found_nothing
    try:
        with contextlib.redirect_stdout(None):
            import weasyprint
        return weasyprint
    except OSError:
        for name in [n for n in sys.modules if n.partition(".")[0] == "weasyprint"]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = search
    import weasyprint

    return weasyprint


def _found_nothing(name: str) -> None:
    return None


def _brief_template(name: str) -> bool:
    """The brief's own templates (not the email's or the archive's), each once (not again
    as ``default:NAME``)."""
    other = ("default:", "email", "archive")
    return name.endswith((".html", ".css")) and not name.startswith(other)


_WARM_UP = (
    "<style>body { font-family: 'DejaVu Sans'; font-size: 8pt }</style>"
    "<p>Net sales <b>£1,234,567</b> −2.5% – 9 Dec 2011</p>"
)


def render_html(context: BriefContext, *, templates_dir: str | Path | None = None) -> str:
    """The brief as one HTML document (``brief.html``); ``templates_dir`` defaults to the
    context's."""
    folder = templates_dir if templates_dir is not None else context.templates_dir
    env = template_environment(folder)
    return env.get_template(TEMPLATE).render(brief=context)


# --------------------------------------------------------------------------- WeasyPrint


class RefusedUrl(ValueError):
    """The brief asked for a resource outside the allowed folders or schemes."""


def _allowed_roots(templates_dir: str | Path | None) -> tuple[Path, ...]:
    roots = [resource_dir("templates").resolve(), FONT_DIR]
    if templates_dir:
        roots.append(Path(templates_dir).resolve())
    return tuple(roots)


@functools.cache
def _fetcher_class() -> type:
    # weasyprint is imported on first use: its import costs ~0.6 s that HTML-only
    # callers should not pay.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalUrlFetcher(URLFetcher):
        """Serves ``data:`` URIs, ``file:`` URLs inside `roots` and, given a `ChartSource`,
        ``lgs-chart:`` URLs (each chart's frame, given `chart_frames.Frames`); refuses
        everything else."""

        def __init__(
            self,
            roots: tuple[Path, ...],
            charts: ChartSource | None = None,
            frames: Frames | None = None,
        ) -> None:
            super().__init__(allowed_protocols=("data", "file"))
            self.roots = roots
            self.charts = charts
            self.frames = frames
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == CHART_SCHEME and self.charts is not None:
                name = url.split(":", 1)[1]
                if self.frames is not None:
                    svg = self.frames.frame(url, name)
                else:
                    svg = self.charts.svg(name).encode()
                return URLFetcherResponse(url, svg, {"Content-Type": "image/svg+xml"})
            if scheme == "file":
                parts = urlsplit(url)
                path = Path(unquote(parts.path)).resolve()
                if (
                    parts.netloc in ("", "localhost")
                    and path.is_file()
                    and any(path.is_relative_to(root) for root in self.roots)
                ):
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(
                        path.as_uri(), path.read_bytes(), {"Content-Type": kind}
                    )
            self.refused.append(url)
            log.warning(
                "refused to fetch %s: the brief may only load its own template files, "
                "fonts and data: URIs",
                url[:200],
            )
            raise RefusedUrl(f"not an allowed resource for the brief: {url[:200]}")

    return LocalUrlFetcher


def url_fetcher(
    templates_dir: str | Path | None = None,
    charts: ChartSource | None = None,
    frames: Frames | None = None,
) -> Any:
    """A WeasyPrint URL fetcher that only serves the brief's own local files, data: URIs
    and the charts of ``charts`` (or, given ``frames``, their frames)."""
    return _fetcher_class()(_allowed_roots(templates_dir), charts, frames)


def layout(
    html: str,
    context: BriefContext,
    templates_dir: str | Path | None = None,
    charts: ChartSource | None = None,
) -> Any:
    """Lay the HTML out into pages (a WeasyPrint Document); ``charts`` serves its
    ``lgs-chart:`` images: the layout frames them (`chart_frames`), and `write` waits
    for them, so that they are drawn while the brief is laid out."""
    weasyprint = import_weasyprint()
    folder = templates_dir if templates_dir is not None else context.templates_dir
    base = Path(folder).resolve() if folder else resource_dir("templates").resolve()
    frames = Frames(charts) if charts is not None and painting.proven_weasyprint() else None
    # base_url ends with "/" so that relative URLs resolve inside the folder
    document = weasyprint.HTML(
        string=html,
        base_url=base.as_uri() + "/",
        url_fetcher=url_fetcher(folder, charts, frames),
    )
    return document.render(cache=frames.images if frames is not None else None)


def write(document: Any, context: BriefContext, *, painters: int = 1) -> bytes:
    """The PDF bytes of a laid-out document: compressed, no random file identifier; with
    ``painters=2``, a forked process paints the later pages (`painting`), same bytes.

    The embedded font subsets carry a "modified" time that fontTools takes from
    ``SOURCE_DATE_EPOCH`` when set, else from the clock; it is set to the data's
    last invoice for the duration of the call only.
    """
    frames = getattr(document.url_fetcher, "frames", None)
    if frames is not None:
        frames.draw_in()
    stamp = dt.datetime.fromisoformat(context.document_date)
    with _source_date_epoch(int(stamp.timestamp())):
        return painting.write_pdf(document, painters=painters, pdf_identifier=False)


@contextlib.contextmanager
def _source_date_epoch(seconds: int) -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` for the block and restore what was there before."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(seconds)
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def render_pdf(
    html: str, *, context: BriefContext, templates_dir: str | Path | None = None
) -> bytes:
    """The brief's PDF from its HTML; the same HTML always gives the same bytes."""
    return write(layout(html, context, templates_dir), context)


def render_brief(
    figures: dict[str, Any],
    *,
    company: str,
    templates_dir: str | Path | None,
    timings: dict[str, float] | None = None,
    charts: ChartSource | None = None,
    painters: int = 1,
) -> tuple[str, bytes]:
    """Charts, HTML and PDF of one figures document: returns ``(html, pdf)``.

    Each step (``draw``, ``html``, ``layout``, ``write``) is logged with its seconds,
    which ``timings``, if given, also receives. With ``charts`` (drawn by another
    process), the HTML names them by ``lgs-chart:`` URL, the layout frames each one
    (`chart_frames`) and the write waits for them. With ``painters=2`` a forked process
    paints the later pages (`painting`). The bytes are the same either way.
    """
    if charts is None:
        from lgs_reports.charts import draw_charts

        with step("draw", timings):
            images = draw_charts(figures)
    else:
        images = {name: f"{CHART_SCHEME}:{name}" for name in charts.names()}
    context = BriefContext(
        figures=figures,
        charts=images,
        company=company,
        templates_dir=Path(templates_dir) if templates_dir else None,
    )
    with step("html", timings):
        html = render_html(context)
    with step("layout", timings):
        document = layout(html, context, charts=charts)
    with step("write", timings):
        pdf = write(document, context, painters=painters)
    return html, pdf
