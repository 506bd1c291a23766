"""The PDF is typeset in a second process, started before the warehouse is opened.

Laying out and writing the PDF (WeasyPrint) is half of a run, and importing
WeasyPrint is another second; the queries, the analyses and the charts (pandas,
DuckDB, matplotlib) are most of the rest. The two share nothing but the figures
and the charts, so the run forks a typesetter first: while the main process
queries the warehouse, analyses and draws, the typesetter imports WeasyPrint and
waits; then it renders the HTML, lays it out and writes the PDF, and hands the
bytes back. Each process holds only its own libraries, so the run's peak memory
is the larger of the two, not their sum.

The typesetter is forked before DuckDB or PostgreSQL starts a thread or opens a
file (a fork copies neither safely). It runs `lgs_reports.render.render_pdf` on
exactly what the main process would have rendered, so the PDF is byte-identical
to one typeset in-process. Where ``fork`` is not available (not Linux or macOS),
`start` returns an in-process typesetter that does the same work in turn.

Failure: an exception in the typesetter (a template error, a refused URL) is sent
back and raised in the main process as if it had happened there; a typesetter
that dies without a word (killed, out of memory) is an internal error naming its
exit status. When the main process stops early (an error, Ctrl-C, SIGTERM),
`close` ends the typesetter; if the main process is killed outright, the
typesetter finds its pipe closed and exits.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import pickle
import signal
import traceback
from pathlib import Path
from typing import Any

log = logging.getLogger("lgs_reports.typesetter")


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
    """A forked process that imports WeasyPrint now and typesets one brief when asked."""

    def __init__(self, templates_dir: str | Path | None) -> None:
        super().__init__(templates_dir)
        context = multiprocessing.get_context("fork")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child_conn, templates_dir), name="lgs-typesetter", daemon=True
        )
        self._process.start()
        child_conn.close()
        self._done = False  # True once the PDF (or an error) came back

    def submit(self, figures: dict[str, Any], *, company: str) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # `pdf` says how it died
            self._conn.send((figures, company))

    def pdf(self, timings: dict[str, float] | None = None) -> bytes:
        try:
            outcome, value, child_timings = self._conn.recv()
            self._done = True
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._process.join(5)
            raise TypesetterDied(
                f"the typesetting process ended without a PDF ({_exit(self._process.exitcode)})"
            ) from None
        if timings is not None:
            timings.update(child_timings)
        if outcome == "error":
            raise value
        return value

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def close(self) -> None:
        """End the typesetter: it writes no file, so a kill loses nothing.

        After a PDF it is exiting on its own; otherwise (an error or a signal in the main
        process) it is stopped at once, before it logs another step.
        """
        if self._done:
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


def _exit(code: int | None) -> str:
    """How a process ended, for a person: "exit status 1", "killed by SIGKILL"."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


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


def _serve(conn: Any, templates_dir: str | Path | None) -> None:
    """The typesetter's life: import, wait for one job, send the PDF (or the error) back."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the main process's handler is not ours:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # it stops this process on Ctrl-C or SIGTERM
    failure: BaseException | None = None
    try:
        # the seconds the main process does not wait for: WeasyPrint, matplotlib, seaborn
        import weasyprint  # noqa: F401

        from lgs_reports import charts, render  # noqa: F401
    except BaseException as exc:
        failure = exc
    gc.freeze()  # what is alive now lives until the end: the collector need not rescan it
    try:
        figures, company = conn.recv()
    except EOFError:
        return  # the main process ended without asking
    timings: dict[str, float] = {}
    try:
        if failure is not None:
            raise failure
        pdf = _typeset(figures, company, templates_dir, timings)
    except BaseException as exc:
        _send(conn, ("error", _portable(exc), timings))
    else:
        _send(conn, ("ok", pdf, timings))


def _send(conn: Any, message: tuple[str, Any, dict[str, float]]) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # nobody left to tell
        conn.send(message)


def _portable(exc: BaseException) -> BaseException:
    """The exception to raise in the main process, its trace here kept as a note.

    An error of the product (`LgsError`: a template folder that is not one) needs no
    trace; a bug's trace is what its report needs. An exception that does not survive
    pickling becomes a RuntimeError with its type and text.
    """
    from lgs_reports.errors import LgsError

    if not isinstance(exc, LgsError):
        trace = "".join(traceback.format_exception(exc)).rstrip()
        exc.add_note(f"raised in the typesetting process:\n{trace}")
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        portable = RuntimeError(f"{type(exc).__name__}: {exc}")
        for note in getattr(exc, "__notes__", ()):
            portable.add_note(note)
        return portable
    return exc
