"""The brief, as a pipeline of named steps.

resolve the period → query → analyse → recommend → figures → draw → render →
lay out the PDF → archive → deliver. Each step lives in its own module; this
one only orders them, times them (one log line each) and records the run's
parameters with the archived output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lgs_reports
from lgs_reports.config import Settings
from lgs_reports.logs import step
from lgs_reports.periods import Period, latest_complete_month, parse_period

if TYPE_CHECKING:  # imported when used: the typesetter is forked before pandas and DuckDB load
    from lgs_reports.analyses.segments import Segments
    from lgs_reports.typesetter import InProcessTypesetter
    from lgs_reports.warehouse import Warehouse

log = logging.getLogger("lgs_reports.report")


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """Everything that identifies one run; recorded in the archive's manifest."""

    started_at: dt.datetime  # UTC
    version: str
    python: str
    warehouse: str  # URL, password masked
    requested_period: str | None

    @classmethod
    def start(cls, settings: Settings, period: str | None) -> RunInfo:
        from lgs_reports.config import mask_url

        return cls(
            started_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            version=lgs_reports.__version__,
            python=platform.python_version(),
            warehouse=mask_url(settings.database_url),
            requested_period=period,
        )


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    period: str
    path: Path | None
    revision: int | None
    reused: bool
    delivery: str

    def summary(self) -> str:
        state = "unchanged, reused" if self.reused else "new revision"
        return (
            f"brief {self.period}: {self.path} (revision {self.revision}, {state}); {self.delivery}"
        )


def ensure_data(warehouse: Warehouse, settings: Settings) -> None:
    """On a fresh machine with nothing configured, fill the embedded warehouse with the sample."""
    if not settings.database_is_default or not warehouse.is_empty():
        return
    from lgs_reports.sample import load_sample

    log.warning(
        "no warehouse is configured and the embedded one (%s) is empty: generating SAMPLE "
        "DATA, not LGS transactions. Load real data with `lgs-reports load FILE`, or set "
        "LGS_DATABASE_URL.",
        warehouse.safe_url,
    )
    load_sample(warehouse)


def resolve_period(text: str | None, last_invoice: dt.datetime) -> Period:
    """The period asked for, or the latest complete month of the data (the cron default)."""
    if text:
        return parse_period(text)
    period = latest_complete_month(last_invoice)
    log.info("period: none given; the latest complete month is %s", period.label)
    return period


def build_brief(
    settings: Settings,
    *,
    period: str | None,
    output_dir: Path,
    email: bool = True,
    dry_run: bool = False,
) -> RunOutcome:
    """Build, archive and (unless told not to) email the brief of ``period``.

    With email on, what sending needs is checked first (`mail.check_ready`): a
    missing SMTP server stops the run before the warehouse is opened. The
    typesetter is forked next, before anything starts a thread (`typesetter`).
    """
    from lgs_reports import typesetter

    if email:
        from lgs_reports.mail import check_ready

        check_ready(settings, dry_run=dry_run)
    with typesetter.start(settings.report.templates_dir or None) as pdf_maker:
        return _build_brief(
            settings, pdf_maker, period=period, output_dir=output_dir, email=email, dry_run=dry_run
        )


def _build_brief(
    settings: Settings,
    pdf_maker: InProcessTypesetter,
    *,
    period: str | None,
    output_dir: Path,
    email: bool,
    dry_run: bool,
) -> RunOutcome:
    from lgs_reports.archive import RevisionStore
    from lgs_reports.dataset import data_window, no_invoices
    from lgs_reports.queries import Reader
    from lgs_reports.warehouse import Warehouse

    run = RunInfo.start(settings, period)
    timings: dict[str, float] = {}
    with Warehouse.from_settings(settings) as warehouse:
        with step("warehouse", timings):
            ensure_data(warehouse, settings)
            warehouse.upgrade_derived()
            if warehouse.is_empty():  # no invoices, or not even the tables to read them from
                raise no_invoices(warehouse.safe_url)
            with warehouse.connect() as conn:
                _, _, last = data_window(Reader([conn]), warehouse.safe_url)
        chosen = resolve_period(period, last)
        store = RevisionStore(output_dir)
        with store.period_lock(chosen.label, settings.output.lock_timeout):
            if email and not dry_run:
                _send_pending(settings, output_dir)
            files, figures, fingerprint = _build(
                warehouse, pdf_maker, settings, chosen, run, timings
            )
            with step("archive", timings):
                report = store.archive(
                    chosen.label,
                    files,
                    fingerprint=fingerprint,
                    created_at=run.started_at,
                    lock_timeout=settings.output.lock_timeout,
                )
            delivery = "email: off (--no-email)"
            if email:
                with step("deliver", timings):
                    delivery = _deliver(settings, report, figures, run, dry_run)
    return RunOutcome(
        period=chosen.label,
        path=report.path,
        revision=report.revision,
        reused=report.reused,
        delivery=delivery,
    )


def _build(
    warehouse: Warehouse,
    pdf_maker: InProcessTypesetter,
    settings: Settings,
    period: Period,
    run: RunInfo,
    timings: dict[str, float],
) -> tuple[dict[str, bytes], dict[str, Any], dict[str, Any]]:
    """Query → analyse → recommend → figures → draw → typeset: the archive's files.

    The typesetter gets the figures as soon as they exist; the action lists are
    written here while it draws and lays out the PDF.
    """
    from lgs_reports.figures_json import figures_json

    figures, segments, raw_lines = _figures(warehouse, settings, period, timings)
    # nothing more to read: DuckDB's memory is given back, and no connection is open while
    # `submit` waits for the charts (a SIGTERM then must not find one to close)
    warehouse.dispose()
    pdf_maker.submit(figures, company=settings.report.company)
    with step("lists", timings):
        files = {"figures.json": figures_json(figures), **segments.list_files()}
    pdf = pdf_maker.pdf(timings)
    fingerprint = {  # what the brief was made from, and how this run went
        "raw_lines": raw_lines,
        "first_transaction": figures["data_window"]["first_invoice"],
        "last_transaction": figures["data_window"]["last_invoice"],
        "loads": figures["data_quality"]["loads"],
        "run": {
            "warehouse": run.warehouse,
            "requested_period": run.requested_period,
            "python": run.python,
            "step_seconds": dict(timings),
        },
    }
    return {f"lgs-brief-{period.label}.pdf": pdf, **files}, figures, fingerprint


def _figures(
    warehouse: Warehouse, settings: Settings, period: Period, timings: dict[str, float]
) -> tuple[dict[str, Any], Segments, int]:
    """The figures document, the segments (for the action lists), and the raw lines counted.

    The query results and the other analyses are dropped on return.
    """
    from lgs_reports.analyses import analyse
    from lgs_reports.dataset import fetch
    from lgs_reports.figures_json import build_figures
    from lgs_reports.recommendations import recommend

    gc.freeze()  # pandas, DuckDB and the analyses' modules live to the end
    with step("query", timings), warehouse.reader() as reader:
        data = fetch(
            reader,
            period,
            rfm_window_days=settings.report.rfm_window_days,
            safe_url=warehouse.safe_url,
        )
    with step("analyse", timings):
        analysis = analyse(data, settings)
    with step("recommend", timings):
        recommendations = recommend(analysis)
        figures = build_figures(analysis, recommendations)
    return figures, analysis.segments, int(data.quality_all.at[0, "raw_lines"])


def _send_pending(settings: Settings, output_dir: Path) -> None:
    """Earlier briefs still in the outbox go first; a dead server costs one try here."""
    from lgs_reports.mail import deliver_pending

    for outcome in deliver_pending(settings, output_dir, raise_on_pending=False, retries=0):
        log.info("%s", outcome.note)


def _deliver(
    settings: Settings, report: Any, figures: dict[str, Any], run: RunInfo, dry_run: bool
) -> str:
    from lgs_reports.mail import deliver_report

    # a DeliveryError's message already says the brief is archived and how to send it
    return deliver_report(settings, report, figures, now=run.started_at, dry_run=dry_run).note
