"""The PDF is made by two processes forked before the warehouse is opened.

Laying out and writing the PDF (WeasyPrint) is half of a run, drawing the charts
(matplotlib) a fifth, and importing the two libraries another second; the
queries and the analyses (pandas, DuckDB) are most of the rest. They share
nothing but the figures, so the run forks two workers first:

- the draftsman imports matplotlib and seaborn and waits for the figures; it
  says at once which charts there are and their sizes (`charts.chart_names`,
  `charts.chart_size`, decided without drawing), then forks a helper, and the
  two take the charts one at a time, each the next one left, until all are
  drawn; each chart's SVG is sent to the typesetter as soon as it is written (the
  helper's through the draftsman; a thread sends them, so that drawing never
  waits for the typesetter to read);
- the typesetter imports WeasyPrint, compiles the templates and warms its fonts
  up while the main process queries and analyses (`render.prepare`); given the
  figures and the charts' sizes, it renders the HTML, with each chart named by
  an ``lgs-chart:`` URL, and lays it out with each chart's frame while the
  charts are drawn (`chart_frames`); it then puts each chart in its frame and
  writes the PDF, with a painter forked from it painting the later pages
  (`painting`), and hands the bytes back.

Two cores, three processes (four while the charts are drawn or the PDF
written): the workers run below the main process's priority (the typesetter
above the draftsman), so that their imports take what CPU the queries leave;
while the charts are drawn the typesetter lays the brief out and the main
process waits (`Typesetter.submit` returns once the charts are drawn); then the
main process writes the action lists while the typesetter finishes the layout,
and the typesetter and its painter share the two cores to write the PDF. Each
process holds only its own libraries, so the run's peak memory is the largest of
them, not their sum. Both workers are forked before DuckDB or PostgreSQL starts a thread or
opens a file (a fork copies neither safely), and run the same functions the main
process would (`render.render_brief`, `charts.chart_svg`), so the PDF is
byte-identical to one made in-process. Where ``fork`` is not available (not
Linux or macOS), `start` returns an in-process typesetter that does the same
work in turn.

Failure: an exception in either worker (a template error, a refused URL, a bug
in a chart) is sent back and raised in the main process as if it had happened
there; a worker (or the draftsman's helper) that dies without a word (killed,
out of memory) is an internal error naming its exit status. When the main
process stops early (an error, Ctrl-C, SIGTERM), `close` ends both workers (the
helper dies with the draftsman); if it is killed outright, each worker finds its
pipe closed and exits (each closes its copies of the pipe ends it does not own,
so that the last writer gone means end of file).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lgs_reports.forks import Forked, ended
from lgs_reports.logs import step

log = logging.getLogger("lgs_reports.typesetter")

WORKER_NICENESS = {"typesetter": 5, "draftsman": 10}  # below the main process (`os.nice`)


class TypesetterDied(RuntimeError):
    """The typesetting process ended without sending the PDF or an error."""


class InProcessTypesetter:
    """The same work in the calling process: where fork is missing, and in tests of it."""

    def __init__(self, templates_dir: str | Path | None) -> None:
        self.templates_dir = templates_dir
        self._job: tuple[dict[str, Any], str] | None = None

    def typeset(
        self, figures: dict[str, Any], *, company: str, timings: dict[str, float] | None = None
    ) -> bytes:
        """The brief's PDF: its charts drawn, its HTML rendered, laid out and written."""
        self.submit(figures, company=company)
        return self.pdf(timings)

    def submit(self, figures: dict[str, Any], *, company: str) -> None:
        """Hand the figures over; the caller may do other work before asking for the `pdf`."""
        self._job = (figures, company)

    def pdf(self, timings: dict[str, float] | None = None) -> bytes:
        """The PDF of the figures submitted (waiting for it); ``timings`` gets its steps."""
        if self._job is None:
            raise RuntimeError("no figures were submitted")
        figures, company = self._job
        return _typeset(figures, company, self.templates_dir, timings)

    def close(self) -> None:
        pass

    def __enter__(self) -> InProcessTypesetter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Typesetter(InProcessTypesetter):
    """Two forked workers: a draftsman draws the charts, a typesetter makes the PDF."""

    def __init__(self, templates_dir: str | Path | None) -> None:
        super().__init__(templates_dir)
        context = multiprocessing.get_context("fork")
        self._conn, typesetter_end = context.Pipe()  # figures in, the PDF (or an error) out
        self._draw_conn, draftsman_end = context.Pipe()  # figures in
        charts_in, charts_out = context.Pipe(duplex=False)  # draftsman -> typesetter
        ends = (self._conn, self._draw_conn, typesetter_end, draftsman_end, charts_in, charts_out)
        self._draftsman = context.Process(
            target=_draw,
            args=(draftsman_end, charts_out, _others(ends, draftsman_end, charts_out)),
            name="lgs-charts",
            daemon=True,
        )
        self._process = context.Process(
            target=_serve,
            args=(
                typesetter_end,
                charts_in,
                templates_dir,
                _others(ends, typesetter_end, charts_in),
            ),
            name="lgs-typesetter",
            daemon=True,
        )
        self._draftsman.start()
        self._process.start()
        for end in (typesetter_end, draftsman_end, charts_in, charts_out):
            end.close()
        self._done = False  # True once the PDF (or an error) came back

    def submit(self, figures: dict[str, Any], *, company: str) -> None:
        """Hand the figures over and return once the charts are drawn: the two cores are
        the draftsman's and the typesetter's until then, the typesetter's and the caller's
        after."""
        for conn in (self._draw_conn, self._conn):
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # `pdf` says how
                conn.send((figures, company))
        with contextlib.suppress(EOFError, ConnectionResetError):
            self._draw_conn.recv()

    def pdf(self, timings: dict[str, float] | None = None) -> bytes:
        try:
            outcome, value, child_timings = self._conn.recv()
            self._done = True
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._process.join(5)
            raise TypesetterDied(
                f"the typesetting process ended without a PDF ({ended(self._process.exitcode)})"
            ) from None
        if timings is not None:
            timings.update(child_timings)
        if outcome == "error":
            if isinstance(value, TypesetterDied):
                self._draftsman.join(5)
                if self._draftsman.exitcode:  # the draftsman's own end: say how
                    raise TypesetterDied(f"{value} ({ended(self._draftsman.exitcode)})")
            raise value
        return value

    @property
    def pid(self) -> int | None:
        """The typesetting process's id."""
        return self._process.pid

    @property
    def draftsman_pid(self) -> int | None:
        """The chart-drawing process's id."""
        return self._draftsman.pid

    def close(self) -> None:
        """End both workers: they write no file, so a kill loses nothing.

        After a PDF they are exiting on their own; otherwise (an error or a signal in the
        main process) they are stopped at once, before they log another step.
        """
        for process in (self._process, self._draftsman):
            if self._done:
                process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
        self._conn.close()
        self._draw_conn.close()


class _ChartFeed:
    """The draftsman's charts as the typesetter reads them: a `render.ChartSource`.

    The draftsman sends ``("sizes", {name: (width, height), ...})`` (the charts there
    will be, in order, and their sizes in inches), then ``("chart", (name, svg))`` for
    each, then ``("done", timings)``; or ``("error", exception)`` at any point.
    """

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._sizes: dict[str, tuple[float, float]] | None = None
        self._svgs: dict[str, str] = {}
        self.error: BaseException | None = None  # what stopped the charts, to raise as it is

    def names(self) -> list[str]:
        return list(self._known())

    def size(self, name: str) -> tuple[float, float]:
        return self._known()[name]

    def _known(self) -> dict[str, tuple[float, float]]:
        if self._sizes is None:
            self._sizes = self._next("sizes")
        return self._sizes

    def svg(self, name: str) -> str:
        try:
            while name not in self._svgs and name in self.names():
                got, svg = self._next("chart")
                self._svgs[got] = svg
            return self._svgs[name]
        except BaseException as exc:
            from weasyprint.urls import FatalURLFetchingError  # WeasyPrint skips other errors

            self.error = self.error or exc
            raise FatalURLFetchingError(f"chart {name}") from exc

    def finish(self) -> dict[str, float]:
        """The draftsman's timings, once it is done (charts the brief did not place are
        read and dropped); none if it ended without them."""
        with contextlib.suppress(TypesetterDied):
            while (message := self._next("chart", "done"))[0] == "chart":
                pass
            return message[1]
        return {}

    def _next(self, *expected: str) -> Any:
        """The next message's value, or (kind, value) when more than one kind is expected."""
        try:
            kind, value = self._conn.recv()
        except EOFError:
            raise TypesetterDied("the chart-drawing process ended without the charts") from None
        if kind == "error":
            raise value
        if kind not in expected:
            raise RuntimeError(f"the chart-drawing process sent {kind!r}, not {expected[0]!r}")
        return value if len(expected) == 1 else (kind, value)


def start(templates_dir: str | Path | None) -> InProcessTypesetter:
    """A typesetter for one brief: a forked process where the platform can fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return InProcessTypesetter(templates_dir)
    return Typesetter(templates_dir)


def _typeset(
    figures: dict[str, Any],
    company: str,
    templates_dir: str | Path | None,
    timings: dict[str, float] | None,
) -> bytes:
    from lgs_reports.render import render_brief

    return render_brief(figures, company=company, templates_dir=templates_dir, timings=timings)[1]


def _serve(conn: Any, charts: Any, templates_dir: str | Path | None, others: list[Any]) -> None:
    """The typesetter's life: import and prepare, wait for one job, send the PDF (or the
    error) back."""
    niceness = WORKER_NICENESS["typesetter"]
    job = _wait_for_job(conn, others, niceness, lambda: _prepare_typesetting(templates_dir))
    if job is None:
        return  # the main process ended without asking
    figures, company, failure = job
    timings: dict[str, float] = {}
    feed = _ChartFeed(charts)
    try:
        if failure is not None:
            raise failure
        from lgs_reports.render import render_brief

        _, pdf = render_brief(
            figures,
            company=company,
            templates_dir=templates_dir,
            timings=timings,
            charts=feed,
            painters=2,
        )
        timings.update(feed.finish())
    except BaseException as exc:
        _send(conn, ("error", _portable(feed.error or exc, "typesetting"), timings))
    else:
        _send(conn, ("ok", pdf, timings))


def _draw(conn: Any, charts_out: Any, others: list[Any]) -> None:
    """The draftsman's life: import, wait for the figures, say which charts there are and
    their sizes, and send each one as it is done."""
    job = _wait_for_job(conn, others, WORKER_NICENESS["draftsman"], _prepare_drawing)
    if job is None:
        return
    figures, _, failure = job
    timings: dict[str, float] = {}
    outbox = _Outbox(charts_out)
    try:
        if failure is not None:
            raise failure
        from lgs_reports.charts import chart_names, chart_size, chart_svg

        with step("draw", timings):
            names = chart_names(figures)
            # before the helper is forked and the outbox's thread started: small, into an
            # empty pipe
            _send(charts_out, ("sizes", {name: chart_size(name, figures) for name in names}))
            drawn = _drawn_by_two(names, lambda name: chart_svg(name, figures), (conn, charts_out))
            for chart in drawn:
                outbox.put(("chart", chart))
    except BaseException as exc:
        outbox.put(("error", _portable(exc, "chart-drawing")))
    else:
        outbox.put(("done", timings))
    _send(conn, ("drawn",))  # the main process may take the core now
    outbox.close()


class _Outbox:
    """The draftsman's messages to the typesetter, sent in order by a thread, so that the
    draftsman draws on while the typesetter, laying the brief out, does not read them
    yet (an SVG is larger than a pipe holds). The thread starts with the first message
    after the helper is forked (`_drawn_by_two`): a fork copies no thread."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def put(self, message: tuple[Any, ...]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._send_all, daemon=True)
            self._thread.start()
        self._queue.put(message)

    def close(self) -> None:
        """Wait until every message is sent (or the typesetter is gone)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()

    def _send_all(self) -> None:
        while (message := self._queue.get()) is not None:
            _send(self._conn, message)


def _drawn_by_two(
    names: list[str], draw: Callable[[str], str], inherited: Sequence[Any]
) -> Iterator[tuple[str, str]]:
    """Each chart as ``(name, svg)`` as soon as it is drawn: the draftsman and a helper
    forked from it (matplotlib already imported) each take the next chart of ``names`` when
    free, so that both cores draw while the typesetter waits for the charts and the main
    process for the typesetter. The typesetter takes the charts by name, in whatever order
    they come (`_ChartFeed`). Where no helper can be forked, the draftsman draws them all.
    The helper closes its copies of the draftsman's ``inherited`` pipe ends.
    """
    turns = _Turns(names)
    try:
        helper = _Helper(turns, draw, inherited) if len(names) > 1 else None
    except OSError:  # no process to be had
        helper = None
    try:
        while (name := turns.take()) is not None:
            yield name, draw(name)
            if helper is not None:
                yield from helper.charts(wait=False)
        if helper is not None:
            yield from helper.charts(wait=True)
    finally:
        if helper is not None:
            helper.close()


class _Turns:
    """The charts to draw, shared by the draftsman and its helper: each takes the next."""

    def __init__(self, names: list[str]) -> None:
        self._names = names
        self._next = multiprocessing.get_context("fork").Value("i", 0)  # shared after fork

    def take(self) -> str | None:
        """The next chart nobody has taken, or None when all are taken."""
        with self._next.get_lock():
            index = self._next.value
            self._next.value = index + 1
        return self._names[index] if index < len(self._names) else None


class _Helper:
    """A process forked from the draftsman that draws charts beside it (`_drawn_by_two`).

    It sends ``("chart", (name, svg))`` for each chart it takes, then ``("done", None)``,
    or ``("error", exception)``; it dies with the draftsman (`forks.Forked`).
    """

    def __init__(self, turns: _Turns, draw: Callable[[str], str], inherited: Sequence[Any]) -> None:
        self._process = Forked(lambda writer: _help_draw(writer, turns, draw), inherited)
        self._done = False

    def charts(self, *, wait: bool) -> Iterator[tuple[str, str]]:
        """The helper's charts: those it has sent already, or (``wait``) all the rest."""
        reader = self._process.reader
        while not self._done and (wait or reader.poll()):
            try:
                kind, value = reader.recv()
            except EOFError:
                how = ended(self._process.reap())
                raise TypesetterDied(
                    f"the chart-drawing helper ended without its charts ({how})"
                ) from None
            if kind == "error":
                raise value
            if kind == "done":
                self._done = True
            else:
                yield value

    def close(self) -> None:
        """Reap the helper; one still drawing (after an error in the draftsman) is killed."""
        self._process.close(finished=self._done)


def _help_draw(writer: Any, turns: _Turns, draw: Callable[[str], str]) -> None:
    """The helper's life: draw the charts it takes and send each."""
    try:
        while (name := turns.take()) is not None:
            writer.send(("chart", (name, draw(name))))
        writer.send(("done", None))
    except BaseException as exc:
        _send(writer, ("error", _portable(exc, "chart-drawing")))


def _prepare_typesetting(templates_dir: str | Path | None) -> None:
    from lgs_reports import render

    render.prepare(templates_dir)


def _prepare_drawing() -> None:
    import lgs_reports.charts  # noqa: F401


def _others(ends: Sequence[Any], *own: Any) -> list[Any]:
    return [end for end in ends if not any(end is mine for mine in own)]


def _wait_for_job(
    conn: Any, others: list[Any], niceness: int, prepare: Callable[[], None]
) -> tuple[dict[str, Any], str, BaseException | None] | None:
    """A forked worker's start, up to its one job: ``(figures, company, what prepare
    raised)``, or None when the main process ended without sending it.

    The worker handles signals its own way, closes its copies of the pipe ends it does not
    own (a copy kept here would hide the main process's end from `recv`), and runs below the
    main process's priority, so that `prepare` (its imports) takes what CPU the queries
    leave (on two cores the three processes would otherwise share them evenly, and the
    figures would come later). An error in `prepare` waits for the job, to be sent back.
    What is alive then lives until the end, and a worker lives for one brief: the collector
    need not rescan the libraries, nor run at all (0.3 s less for the typesetter, whose
    garbage is about 25 MB).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the main process's handler is not ours:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # it stops this process on Ctrl-C or SIGTERM
    for end in others:
        end.close()
    os.nice(niceness)
    failure: BaseException | None = None
    try:
        prepare()
    except BaseException as exc:
        failure = exc
    gc.freeze()
    gc.disable()
    try:
        figures, company = conn.recv()
    except EOFError:
        return None
    return figures, company, failure


def _send(conn: Any, message: tuple[Any, ...]) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # nobody left to tell
        conn.send(message)


def _portable(exc: BaseException, where: str) -> BaseException:
    """The exception to raise in the main process, its trace here kept as a note.

    An error of the product (`LgsError`: a template folder that is not one) needs no
    trace; a bug's trace is what its report needs. An exception that does not survive
    pickling becomes a RuntimeError with its type and text.
    """
    from lgs_reports.errors import LgsError

    traced = any(note.startswith("raised in the ") for note in getattr(exc, "__notes__", ()))
    if not isinstance(exc, LgsError) and not traced:  # a helper's error has its trace
        trace = "".join(traceback.format_exception(exc)).rstrip()
        exc.add_note(f"raised in the {where} process:\n{trace}")
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        portable = RuntimeError(f"{type(exc).__name__}: {exc}")
        for note in getattr(exc, "__notes__", ()):
            portable.add_note(note)
        return portable
    return exc
