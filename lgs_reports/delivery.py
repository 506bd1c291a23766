"""Email delivery of an archived brief: build the message, send it by SMTP, keep an outbox.

One message per report revision goes to the configured recipients, in one
SMTP transaction per recipient over one connection, so that partial success
is known exactly. Before the first attempt the message is written to the
outbox (``output/.outbox/<period>-r<rev>.eml`` and ``.json`` with the
recipients still pending); it leaves the outbox when everyone has it. When
the outbox cannot be written, NotQueuedError (exit 7): neither sent nor queued.

Each recipient's transaction writes its intent to the ``.json`` just before
DATA and its result (the revision's delivery log in ``manifest.json``, then
the ``.json``) as soon as the server answers, before the next recipient is
tried. So nobody is sent a revision the delivery log says they have, and a
run stopped between the two (a kill, a lost connection during DATA) leaves
the recipient *unconfirmed*: they may have it. An unconfirmed recipient is
reported on every later delivery and sent the message again (same
Message-ID) only with ``deliver --resend-unconfirmed``: at least once when
asked, never twice unasked. A 5xx refusal is permanent and not retried; a
4xx one, or no answer, is retried up to ``[smtp] retries`` times. If someone
still lacks it, DeliveryError (exit 4) says where it waits, and
`deliver_pending` (run at the start of every run, and by ``lgs-reports
deliver``) sends it later.

Secrets: the SMTP password is only ever handed to ``smtplib.login``; wherever
it (or its base64 AUTH forms) is a word of a server's reply, it is masked
before the reply is logged or raised (`config.mask_secrets`).
Certificates are always verified (``ssl.create_default_context()``); the
``ssl_context`` parameters exist so tests can trust a self-signed server.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import email.policy
import email.utils
import hashlib
import io
import json
import logging
import smtplib
import ssl
import time
import zipfile
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from lgs_reports import disk, formatting
from lgs_reports.archive import ArchivedReport, RevisionStore, check_period
from lgs_reports.config import (
    Settings,
    breaks_line,
    check_subject,
    mask_secrets,
    validate_address,
)
from lgs_reports.errors import (
    ArchiveWriteError,
    BadInputError,
    BusyError,
    ConfigError,
    DeliveryError,
    NotQueuedError,
)
from lgs_reports.resources import resource_dir

log = logging.getLogger("lgs_reports.delivery")

OUTBOX = ".outbox"
PREVIEW_NAME = "email-preview.eml"
NO_RECIPIENTS = "email: no recipients configured ([email] to); nothing sent"
TOP_RECOMMENDATIONS = 3
_MB = 1_000_000  # max_size_mb counts decimal megabytes: the stricter reading

_POLICY = email.policy.SMTP  # CRLF line ends, as SMTP wants them


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery did; ``note`` is the one line to show the user."""

    period: str
    revision: int
    sent_to: tuple[str, ...] = ()
    already_had: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()  # still lacking it, for whatever reason (unconfirmed too)
    unconfirmed: tuple[str, ...] = ()  # may have it: not sent again without being asked
    eml_path: Path | None = None  # the outbox file while pending; the preview on a dry run
    note: str = ""


@dataclasses.dataclass(frozen=True)
class OutboxEntry:
    """A message waiting in the outbox, as its ``.json`` file describes it."""

    period: str
    revision: int
    eml: Path
    meta: Path
    report_dir: Path
    sender: str
    recipients: tuple[str, ...]
    pending: tuple[str, ...]
    sent: tuple[str, ...]
    message_ids: Mapping[str, str]
    created_at: str
    last_error: str
    # recipient -> when the message was handed to the server for them, with no answer
    # recorded yet: they may have it (see `_deliver_entry`)
    unconfirmed: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class KpiLine:
    """A headline KPI, already formatted for the email."""

    label: str
    value: str
    change: str | None  # "+16.0%" or, for ratios, "−1.1 pp"; None when nothing to compare with
    comparison: str | None  # what it is compared with, e.g. "2010"


@dataclasses.dataclass(frozen=True)
class RecommendationLine:
    """One of the top recommendations, already formatted for the email."""

    rank: int
    title: str
    text: str
    evidence: str
    at_stake: str | None


@dataclasses.dataclass(frozen=True)
class EmailContext:
    """Everything ``templates/email.html`` and ``email.txt`` render; nothing else reaches them."""

    company: str
    period: str  # the label, e.g. 2011-11
    period_title: str  # e.g. November 2011
    revision: int
    created: str  # date the brief was built, e.g. 10 Dec 2011
    partial_note: str | None
    sample_data: bool
    kpis: tuple[KpiLine, ...]
    recommendations: tuple[RecommendationLine, ...]
    attachments: tuple[str, ...]  # file names attached
    pdf_note: str | None  # set when the PDF is too large to attach: where it is archived
    csv_note: str | None  # set when the segment CSVs are not attached: where they are archived
    archive_path: str


# --------------------------------------------------------------------------- addresses


def configured_recipients(settings: Settings) -> tuple[Address, ...]:
    """``[email] to``, validated, without duplicates (compared case-insensitively)."""
    seen: set[str] = set()
    result = []
    for raw in settings.email.to:
        address = validate_address(raw, "[email] to")
        if address.addr_spec.lower() not in seen:
            seen.add(address.addr_spec.lower())
            result.append(address)
    return tuple(result)


def _require_host(settings: Settings, why: str) -> None:
    if not settings.smtp.host.strip():
        raise ConfigError(
            f"email: {why}, but no SMTP server is configured; set [smtp] host or "
            "LGS_SMTP_HOST (or run with --no-email)"
        )


# --------------------------------------------------------------------------- the message


def build_message(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The email for one archived revision, to every configured recipient.

    HTML body with a plain-text alternative, the PDF attached, the segment
    CSVs attached as one zip. Attachments are left out, zip first, while the
    message would exceed ``[email] max_size_mb``; the body then says where in
    the archive they are. ``figures`` defaults to the revision's figures.json.
    The Message-ID is added per recipient when sending (see `message_id`).
    """
    now = _aware(now)
    recipients = configured_recipients(settings)
    sender = validate_address(settings.email.sender, "[email] from")
    figures = _load_figures(report) if figures is None else figures
    subject = _subject(settings, report, figures)

    files = list((report.manifest.get("files") or {}).keys())
    pdfs = [f for f in files if f.lower().endswith(".pdf")]
    csvs = sorted(f for f in files if f.lower().endswith(".csv"))
    pdf_name = pdfs[0] if pdfs else None
    pdf = (report.path / pdf_name).read_bytes() if pdf_name else None
    zip_name, zip_bytes, csv_dir = _zip_csvs(report, csvs) if csvs else (None, None, None)
    limit = settings.email.max_size_mb * _MB
    archive_path = str(report.path.resolve())

    plans = [(pdf is not None, zip_bytes is not None)]
    if zip_bytes is not None:
        plans.append((pdf is not None, False))
    if pdf is not None:
        plans.append((False, False))
    for attach_pdf, attach_zip in plans:
        pdf_note = csv_note = None
        if pdf is not None and not attach_pdf:
            pdf_note = (
                f"The PDF ({len(pdf) / _MB:.1f} MB) is too large to attach within the "
                f"{settings.email.max_size_mb:g} MB limit; it is archived at "
                f"{report.path.resolve() / pdf_name}"
            )
        if zip_bytes is not None and not attach_zip:
            csv_note = (
                f"The segment lists ({len(csvs)} CSV files) are not attached, to keep this "
                f"email within {settings.email.max_size_mb:g} MB; they are archived in {csv_dir}"
            )
        attachments = (pdf_name,) * attach_pdf + (zip_name,) * attach_zip
        context = _context(settings, report, figures, attachments, pdf_note, csv_note, archive_path)
        message = _compose(settings, sender, recipients, subject, now, report, context)
        if attach_pdf:
            message.add_attachment(
                pdf, maintype="application", subtype="pdf", filename=PurePosixPath(pdf_name).name
            )
        if attach_zip:
            message.add_attachment(
                zip_bytes, maintype="application", subtype="zip", filename=zip_name
            )
        size = len(message.as_bytes(policy=_POLICY))
        if size <= limit:
            break
        log.info(
            "email: message with %s is %.1f MB, over the %g MB limit",
            ", ".join(attachments) or "no attachments",
            size / _MB,
            settings.email.max_size_mb,
        )
    else:
        log.warning("email: the message is over the size limit even without attachments")
    return message


def _compose(
    settings: Settings,
    sender: Address,
    recipients: Sequence[Address],
    subject: str,
    now: dt.datetime,
    report: ArchivedReport,
    context: EmailContext,
) -> EmailMessage:
    env = _environment(settings)
    text = env.get_template("email.txt").render(ctx=context)
    html = env.get_template("email.html").render(ctx=context)
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = tuple(recipients)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-LGS-Period"] = report.period
    message["X-LGS-Revision"] = str(report.revision)
    # quoted-printable keeps the body 7-bit, so any SMTP server takes it as is.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    for part in message.walk():  # add_alternative repeats MIME-Version in the part; once is right
        if part is not message:
            del part["MIME-Version"]
    return message


def _environment(settings: Settings) -> jinja2.Environment:
    """The Jinja environment for email: autoescape for .html, not for .txt.

    ``[report] templates_dir``, when set, is searched first, so a user's own
    ``email.html``/``email.txt`` replace the built-in ones.
    """
    folders = [settings.report.templates_dir] if settings.report.templates_dir else []
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(resource_dir("templates"))]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        finalize=formatting.literal_text,  # a bidi override in the data reorders nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _subject(settings: Settings, report: ArchivedReport, figures: Mapping[str, Any]) -> str:
    template = check_subject(settings.email.subject)
    title = str(_period_info(figures).get("title") or report.period)
    if breaks_line(title):
        raise BadInputError(
            f"email: the period title {title!r} in figures.json contains a line break or "
            "control character; it cannot go into a subject line"
        )
    subject = template.replace("{period}", title)
    if figures.get("sample_data"):
        subject = "[SAMPLE DATA] " + subject
    return subject


def _context(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any],
    attachments: tuple[str, ...],
    pdf_note: str | None,
    csv_note: str | None,
    archive_path: str,
) -> EmailContext:
    period = _period_info(figures)
    created = report.manifest.get("created_at")
    try:
        created_text = formatting.date(created) if created else "–"
    except ValueError:
        created_text = str(created)
    return EmailContext(
        company=settings.report.company,
        period=report.period,
        period_title=str(period.get("title") or period.get("label") or report.period),
        revision=report.revision,
        created=created_text,
        partial_note=str(period.get("partial_note") or "").rstrip(". ") or None,
        sample_data=bool(figures.get("sample_data")),
        kpis=tuple(_kpi_line(k) for k in _list_of_dicts(figures.get("kpis"))),
        recommendations=_top_recommendations(figures.get("recommendations")),
        attachments=attachments,
        pdf_note=pdf_note,
        csv_note=csv_note,
        archive_path=archive_path,
    )


def _period_info(figures: Mapping[str, Any]) -> Mapping[str, Any]:
    period = figures.get("period")
    return period if isinstance(period, Mapping) else {}


def _list_of_dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _kpi_line(kpi: Mapping[str, Any]) -> KpiLine:
    """A headline KPI written exactly as the brief's KPI card writes it (`formatting.kpi_*`)."""
    unit = kpi.get("unit")
    change = _number(kpi.get("change"))
    comparison = kpi.get("comparison")
    yoy = (kpi.get("comparisons") or {}).get("yoy")
    basis = formatting.kpi_basis(yoy, unit) if isinstance(yoy, Mapping) else None
    if comparison and basis:  # new customers: the change compares a recount, not the value
        comparison = f"{comparison}, {basis}"
    return KpiLine(
        label=str(kpi.get("label") or kpi.get("key") or "?"),
        value=formatting.kpi_value(_number(kpi.get("value")), unit),
        change=(
            formatting.kpi_change(change, kpi.get("change_kind"), unit)
            if change is not None
            else None
        ),
        comparison=str(comparison) if comparison and change is not None else None,
    )


def _top_recommendations(value: Any) -> tuple[RecommendationLine, ...]:
    items = _list_of_dicts(value)
    ordered = sorted(
        enumerate(items), key=lambda p: (_number(p[1].get("rank")) or float(p[0] + 1), p[0])
    )
    lines = []
    for position, (_, rec) in enumerate(ordered[:TOP_RECOMMENDATIONS], start=1):
        stake = _number(rec.get("at_stake"))
        rank = _number(rec.get("rank"))
        lines.append(
            RecommendationLine(
                rank=int(rank) if rank is not None else position,
                title=str(rec.get("title") or ""),
                text=str(rec.get("text") or ""),
                evidence=str(rec.get("evidence") or ""),
                at_stake=formatting.money_short(stake) if stake is not None else None,
            )
        )
    return tuple(lines)


def _zip_csvs(report: ArchivedReport, csvs: Sequence[str]) -> tuple[str, bytes, Path]:
    """All segment CSVs as one zip (names relative to their common folder), and that folder."""
    common = PurePosixPath(*_common_parts([PurePosixPath(c).parent.parts for c in csvs]))
    created = report.manifest.get("created_at") or "1980-01-01T00:00:00"
    try:
        stamp = dt.datetime.fromisoformat(str(created)).timetuple()[:6]
    except ValueError:
        stamp = (1980, 1, 1, 0, 0, 0)
    stamp = max(stamp, (1980, 1, 1, 0, 0, 0))  # zip cannot date before 1980
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in csvs:
            info = zipfile.ZipInfo(str(PurePosixPath(name).relative_to(common)), date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (report.path / name).read_bytes())
    return f"lgs-segments-{report.period}.zip", buffer.getvalue(), report.path.resolve() / common


def _common_parts(parts: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    common: tuple[str, ...] = parts[0] if parts else ()
    for p in parts[1:]:
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[:n]
    return common


def _load_figures(report: ArchivedReport) -> Mapping[str, Any]:
    path = report.path / "figures.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("email: cannot read %s (%s); the body will have no figures", path, exc)
        return {}
    return data if isinstance(data, Mapping) else {}


def message_id(period: str, revision: int, recipient: str, sender: Address) -> str:
    """The Message-ID of one revision for one recipient: the same on every retry.

    Deterministic, so a receiving system that saw it once can drop a duplicate.
    """
    digest = hashlib.sha256(f"{period}\0{revision}\0{recipient.lower()}".encode()).hexdigest()
    domain = sender.domain or "lgs-reports.invalid"
    return f"<lgs-brief.{period}.r{revision}.{digest[:20]}@{domain}>"


# --------------------------------------------------------------------------- dry run


def write_preview(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    path: Path | None = None,
) -> Path:
    """Write the email as a ``.eml`` file (default: ``email-preview.eml`` in the
    revision folder) and send nothing; for ``--dry-run``. Returns the path."""
    message = build_message(settings, report, figures, now=now)
    target = Path(path) if path is not None else report.path / PREVIEW_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    disk.atomic_write(target, message.as_bytes(policy=_POLICY))
    log.info("email: dry run; message written to %s, nothing sent", target)
    return target


# --------------------------------------------------------------------------- delivery


def deliver_report(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryOutcome:
    """Email one archived revision to every configured recipient who does not have it yet.

    No recipients: nothing is sent, not an error (``note`` says so). Recipients
    but no SMTP host: ConfigError naming LGS_SMTP_HOST. A bad address: ConfigError
    naming it, before anything is sent. The message is queued in the outbox
    before the first attempt; when the outbox cannot be written, NotQueuedError
    (exit 7): nothing was sent or queued. If some recipients are still pending
    after ``[smtp] retries`` (or were refused for good, or are unconfirmed, see
    `deliver_pending`): the message waits in the outbox and DeliveryError (exit
    4) is raised. An outbox entry of an earlier revision of the same period is
    dropped: the new revision supersedes it. ``ssl_context``: tests only; by
    default certificates are verified against the system's CAs.
    """
    now = _aware(now)
    recipients = configured_recipients(settings)
    if not recipients:
        log.info("%s", NO_RECIPIENTS)
        return DeliveryOutcome(report.period, report.revision, note=NO_RECIPIENTS)
    sender = validate_address(settings.email.sender, "[email] from")
    if dry_run:
        path = write_preview(settings, report, figures, now=now)
        return DeliveryOutcome(
            report.period,
            report.revision,
            eml_path=path,
            note=f"email (dry run): message written to {path}; nothing sent",
        )
    _require_host(settings, "[email] to is set")
    message = build_message(settings, report, figures, now=now)
    output_dir = report.output_dir
    with RevisionStore(output_dir).delivery_lock(report.period, settings.output.lock_timeout):
        _drop_superseded(output_dir, report.period, report.revision)
        delivered = RevisionStore(output_dir).delivered_to(report.period, report.revision)
        todo = tuple(r.addr_spec for r in recipients if r.addr_spec.lower() not in delivered)
        had = tuple(r.addr_spec for r in recipients if r.addr_spec.lower() in delivered)
        if not todo:
            what = _what(report.period, report.revision)
            note = f"email: {', '.join(had)} already had the {what}; nothing sent"
            log.info("%s", note)
            return DeliveryOutcome(report.period, report.revision, already_had=had, note=note)
        ids = {
            r.addr_spec: message_id(report.period, report.revision, r.addr_spec, sender)
            for r in recipients
        }
        # an earlier run's entry of this revision: who is unconfirmed survives the rewrite
        _, meta_path = _outbox_paths(output_dir, report.period, report.revision)
        earlier = _read_outbox_entry(meta_path) if meta_path.is_file() else None
        entry = _queue(
            report,
            message.as_bytes(policy=_POLICY),
            sender.addr_spec,
            tuple(r.addr_spec for r in recipients),
            todo,
            had,
            ids,
            dict(earlier.unconfirmed) if earlier else {},
            now,
        )
        outcome = _deliver_entry(settings, entry, ssl_context, already_had=had)
    if outcome.pending:
        raise DeliveryError(outcome.note)
    return outcome


def deliver_pending(
    settings: Settings,
    output_dir: Path | str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    raise_on_pending: bool = True,
    retries: int | None = None,
    resend_unconfirmed: bool = False,
) -> list[DeliveryOutcome]:
    """Send what waits in the outbox; each message leaves it once every recipient has it.

    Called at the start of every run (with ``raise_on_pending=False`` and
    ``retries=0``, so a server that is still down costs one attempt and does
    not stop the new brief) and by ``deliver``. ``retries`` overrides
    ``[smtp] retries``. An entry another process is delivering right now is
    skipped. A recipient left *unconfirmed* (a run stopped after handing the
    message to the server, before its answer was recorded: they may have it)
    is reported and sent again only with ``resend_unconfirmed``
    (``deliver --resend-unconfirmed``). With ``raise_on_pending``,
    DeliveryError (exit 4) if anything is still pending or unconfirmed.
    """
    output_dir = Path(output_dir)
    if retries is not None:
        settings = dataclasses.replace(
            settings, smtp=dataclasses.replace(settings.smtp, retries=retries)
        )
    entries = list_outbox(output_dir)
    if not entries:
        log.info("email: outbox empty; nothing to deliver")
        return []
    if not settings.smtp.host.strip():
        if raise_on_pending:
            _require_host(settings, f"{len(entries)} message(s) wait in {output_dir / OUTBOX}")
        log.warning(
            "email: %d message(s) wait in %s, but no SMTP server is configured "
            "([smtp] host or LGS_SMTP_HOST)",
            len(entries),
            output_dir / OUTBOX,
        )
        return []
    outcomes = []
    for entry in entries:
        try:
            with RevisionStore(output_dir).delivery_lock(entry.period, 0.0):
                current = _read_outbox_entry(entry.meta)  # another run may have sent it meanwhile
                if current is not None:
                    outcomes.append(
                        _deliver_entry(
                            settings, current, ssl_context, resend_unconfirmed=resend_unconfirmed
                        )
                    )
        except BusyError:
            log.info("email: %s is being delivered by another run; skipped", entry.eml)
    failures = [o.note for o in outcomes if o.pending]
    if failures and raise_on_pending:
        if len(failures) == 1:
            raise DeliveryError(failures[0])
        raise DeliveryError(
            f"email: {len(failures)} briefs are still undelivered in {output_dir / OUTBOX} "
            f"(first: {failures[0]})"
        )
    return outcomes


def list_outbox(output_dir: Path | str) -> list[OutboxEntry]:
    """The messages waiting in ``output/.outbox``, oldest period label first."""
    outbox = Path(output_dir) / OUTBOX
    if not outbox.is_dir():
        return []
    entries = []
    for meta in sorted(outbox.glob("*.json")):
        entry = _read_outbox_entry(meta)
        if entry is not None:
            entries.append(entry)
    return entries


def _what(period: str, revision: int) -> str:
    return f"{period} brief (r{revision})"


def _deliver_entry(
    settings: Settings,
    entry: OutboxEntry,
    ssl_context: ssl.SSLContext | None,
    already_had: tuple[str, ...] = (),
    *,
    resend_unconfirmed: bool = False,
) -> DeliveryOutcome:
    """Send an outbox entry to whoever still lacks it; the caller holds the delivery lock.

    Per recipient, in one SMTP transaction: MAIL and RCPT; then the intent is
    written to the entry (``unconfirmed``: from here the server may take it);
    then DATA; then the result: the delivery log, then the entry. A definite
    refusal clears the intent; a refusal with a 5xx code is permanent and not
    retried, a 4xx one (or no answer) is retried up to ``[smtp] retries``. A
    recipient whose DATA got no answer, or whose intent an earlier run left, is
    unconfirmed: not sent again unless ``resend_unconfirmed``. Returns the
    outcome; ``pending`` is non-empty (and ``note`` says why and what to do)
    when someone still lacks the message.
    """
    what = _what(entry.period, entry.revision)
    store = RevisionStore(entry.report_dir.parent.parent)
    manifest_ok = store.is_archived(entry.period, entry.revision)
    if not manifest_ok:
        log.warning(
            "email: %s is no longer archived; sending from the outbox anyway", entry.report_dir
        )
    delivered = store.delivered_to(entry.period, entry.revision) if manifest_ok else set()
    delivered |= {s.lower() for s in entry.sent}
    had = tuple(
        dict.fromkeys(already_had + tuple(p for p in entry.pending if p.lower() in delivered))
    )
    waiting = [p for p in entry.pending if p.lower() not in delivered]
    held = [p for p in waiting if p in entry.unconfirmed and not resend_unconfirmed]
    todo = [p for p in waiting if p not in held]
    for recipient in todo:
        if recipient in entry.unconfirmed:
            log.warning(
                "email: sending the %s to %s again (unconfirmed since %s), as asked",
                what,
                recipient,
                entry.unconfirmed[recipient],
            )
    eml = entry.eml.read_bytes() if todo else b""
    sent: list[str] = []
    refused: dict[str, str] = {}  # recipient -> a permanent (5xx) refusal: not retried
    smtp = settings.smtp
    attempts = max(smtp.retries, 0) + 1
    tried = 0
    last_error = ""
    for attempt in range(1, attempts + 1):
        if not todo:
            break
        if attempt > 1:
            delay = smtp.backoff * 2 ** (attempt - 2)
            log.info("email: attempt %d of %d in %gs", attempt, attempts, delay)
            time.sleep(delay)
        tried = attempt
        try:
            client = _connect(settings, ssl_context)
        except (smtplib.SMTPException, OSError) as exc:
            last_error = _describe(exc, settings)
            log.warning("email: attempt %d of %d failed: %s", attempt, attempts, last_error)
            if _permanent(exc):
                refused.update(dict.fromkeys(todo, last_error))
                todo.clear()
            continue
        in_flight = None  # the recipient whose DATA is under way
        try:
            for recipient in list(todo):
                mid = entry.message_ids.get(recipient) or message_id(
                    entry.period, entry.revision, recipient, Address(addr_spec=entry.sender)
                )
                data = b"Message-ID: " + mid.encode("ascii") + b"\r\n" + eml
                resending = recipient in entry.unconfirmed  # stays so until it succeeds
                try:
                    _envelope(client, entry.sender, recipient, len(data))
                    entry = _intend(entry, recipient)
                    in_flight = recipient
                    _data(client, data)
                    in_flight = None
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                    # A definite "no" for this recipient (or this transaction): not sent now.
                    if in_flight is not None and not resending:
                        entry = _settle(entry, recipient)
                    in_flight = None
                    last_error = _describe(exc, settings)
                    log.warning("email: %s not accepted for %s: %s", what, recipient, last_error)
                    if _permanent(exc):
                        todo.remove(recipient)
                        refused[recipient] = last_error
                    continue
                todo.remove(recipient)
                sent.append(recipient)
                entry = _bookkeep(entry, recipient, mid, manifest_ok)
                log.info("email: sent the %s to %s", what, recipient)
        except (smtplib.SMTPException, OSError) as exc:
            _close(client)
            last_error = _describe(exc, settings)
            log.warning("email: attempt %d of %d failed: %s", attempt, attempts, last_error)
            if in_flight is not None:  # no answer to DATA: the server may have taken it
                todo.remove(in_flight)
                held.append(in_flight)
                log.warning(
                    "email: no answer to the %s for %s; it may have arrived: unconfirmed",
                    what,
                    in_flight,
                )
        except BaseException:
            _close(client, polite=False)
            raise
        else:
            _close(client)

    if todo or refused or held:
        try:
            _update_outbox(entry, error=last_error)
        except OSError as exc:
            log.warning("email: cannot note the last error in %s (%s)", entry.meta, exc)
        note = _pending_note(settings, entry, todo, refused, held, tried, last_error)
        log.warning("%s", note)
        return DeliveryOutcome(
            entry.period,
            entry.revision,
            sent_to=tuple(sent),
            already_had=had,
            pending=tuple(todo) + tuple(refused) + tuple(held),
            unconfirmed=tuple(held),
            eml_path=entry.eml,
            note=note,
        )
    _remove_outbox(entry)
    parts = []
    if sent:
        parts.append(f"sent the {what} to {', '.join(sent)}")
    if had:
        parts.append(f"{', '.join(had)} already had it")
    note = "email: " + ("; ".join(parts) if parts else f"nothing to send for the {what}")
    log.info("%s", note)
    return DeliveryOutcome(
        entry.period, entry.revision, sent_to=tuple(sent), already_had=had, note=note
    )


def _pending_note(
    settings: Settings,
    entry: OutboxEntry,
    todo: Sequence[str],
    refused: Mapping[str, str],
    held: Sequence[str],
    tried: int,
    last_error: str,
) -> str:
    """The one line that says who still lacks the message, why, and what to do."""
    what = _what(entry.period, entry.revision)
    smtp = settings.smtp
    parts = []
    if todo:
        parts.append(
            f"not delivered to {', '.join(todo)} via {smtp.host}:{smtp.port} after {tried} "
            f"attempt(s) ({last_error})"
        )
    if refused:
        errors = "; ".join(dict.fromkeys(refused.values()))
        parts.append(
            f"refused for good for {', '.join(refused)} ({errors}): a permanent (5xx) "
            "refusal is not retried"
        )
    if held:
        since = min(entry.unconfirmed.get(r, "") for r in held) or "an earlier run"
        parts.append(
            f"unconfirmed for {', '.join(held)}: a run stopped after handing it to the "
            f"server ({since}) before the answer was recorded, so they may have it; it is "
            "not sent again on its own: check with them, then run "
            "`lgs-reports deliver --resend-unconfirmed` (same Message-ID)"
        )
    line = f"email: the {what} is archived but " + "; ".join(parts)
    line += f"; it waits in {entry.eml}"
    if todo or refused:
        line += "; fix the cause, then run `lgs-reports deliver`"
    return line


def _permanent(exc: BaseException) -> bool:
    """True for a 5xx reply: the server refuses for good (a wrong password, an unknown
    mailbox, a message it will not take); trying again in a moment cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _envelope(client: smtplib.SMTP, sender: str, recipient: str, size: int) -> None:
    """MAIL and RCPT of one transaction (as ``smtplib.sendmail`` does); a refusal raises."""
    options = [f"size={size}"] if client.does_esmtp and client.has_extn("size") else []
    code, reply = client.mail(sender, options)
    if code != 250:
        _reset(client)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = client.rcpt(recipient)
    if code not in (250, 251):
        _reset(client)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})


def _data(client: smtplib.SMTP, data: bytes) -> None:
    """DATA: hands the message over; only a 250 answer means the server has taken it."""
    code, reply = client.data(data)
    if code != 250:
        _reset(client)
        raise smtplib.SMTPDataError(code, reply)


def _reset(client: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        client.rset()


def _intend(entry: OutboxEntry, recipient: str) -> OutboxEntry:
    """Write, before DATA, that the message is being handed to the server for ``recipient``.

    Until the answer is recorded, a crash leaves them unconfirmed rather than sent
    twice. A disk that refuses the write stops delivery: nothing was sent.
    """
    if recipient in entry.unconfirmed:  # a resend: the first intent (and its time) stands
        return entry
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        return _update_outbox(entry, unconfirmed={**entry.unconfirmed, recipient: since})
    except OSError as exc:
        problem = disk.write_problem(exc, entry.meta) or f"cannot write {entry.meta} ({exc})"
        raise DeliveryError(
            f"email: the {_what(entry.period, entry.revision)} is archived but not sent to "
            f"{recipient}: {problem}; it waits in {entry.eml}: then run `lgs-reports deliver`"
        ) from None


def _settle(entry: OutboxEntry, recipient: str) -> OutboxEntry:
    """Clear the intent for ``recipient`` after a definite refusal (nothing was taken)."""
    rest = {r: t for r, t in entry.unconfirmed.items() if r != recipient}
    try:
        return _update_outbox(entry, unconfirmed=rest)
    except OSError as exc:  # they stay unconfirmed: safe, and the operator is told
        log.warning("email: cannot update %s (%s)", entry.meta, exc)
        return entry


def _bookkeep(entry: OutboxEntry, recipient: str, mid: str, manifest_ok: bool) -> OutboxEntry:
    """Record that the server took the message for ``recipient``: the delivery log first,
    then the outbox entry (which clears the intent), before the next recipient is tried.

    A failure here is not a delivery failure (the server has the message), so it is
    not retried, which would send it twice: the recipient stays unconfirmed.
    """
    sent_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        if manifest_ok:
            RevisionStore(entry.report_dir.parent.parent).record_delivery(
                entry.period,
                entry.revision,
                [
                    {
                        "recipient": recipient,
                        "message_id": mid,
                        "sent_at": sent_at,
                        "revision": entry.revision,
                    }
                ],
            )
        return _update_outbox(entry, sent_now=recipient)
    except (OSError, ArchiveWriteError) as exc:
        problem = (
            exc.problem
            if isinstance(exc, ArchiveWriteError)
            else disk.write_problem(exc, entry.meta) or str(exc)
        )
        raise DeliveryError(
            f"email: the server took the {_what(entry.period, entry.revision)} for {recipient}, "
            f"but that could not be recorded: {problem}; {recipient} has it but stays listed "
            "as unconfirmed: once fixed, run `lgs-reports deliver` for anyone still pending, "
            f"without --resend-unconfirmed (it would send {recipient} a second copy)"
        ) from None


def _connect(settings: Settings, ssl_context: ssl.SSLContext | None) -> smtplib.SMTP:
    """An SMTP session, secured as ``[smtp] security`` says and logged in if configured."""
    smtp = settings.smtp
    context = ssl_context or ssl.create_default_context()
    log.info("email: connecting to %s:%d (%s)", smtp.host, smtp.port, smtp.security)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            # Raises SMTPNotSupportedError when STARTTLS is not offered: never fall back to
            # sending the password and the brief in clear text.
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password)
    except BaseException as exc:
        _close(client, polite=isinstance(exc, smtplib.SMTPException | OSError))
        raise
    return client


def _close(client: smtplib.SMTP, *, polite: bool = True) -> None:
    """End the session: QUIT, or (stopped by Ctrl-C or SIGTERM, or a failure of ours) just
    close the socket, since QUIT waits for an answer, up to ``[smtp] timeout``."""
    if not polite:
        client.close()
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _describe(exc: BaseException, settings: Settings) -> str:
    """One line about a delivery failure, with every form of the password removed."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"authentication refused: {exc.smtp_code} {_reply(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{rcpt} refused: {code} {_reply(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"server replied {exc.smtp_code} {_reply(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        text = f"the server does not support this ({exc}); check [smtp] security"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = f"TLS certificate not trusted ({exc.verify_message})"
    elif isinstance(exc, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(exc, TimeoutError):
        text = f"no answer within {settings.smtp.timeout:g}s"
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _scrub(" ".join(text.split()), settings)


def _reply(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _scrub(text: str, settings: Settings) -> str:
    """Mask the password, and the base64 forms an AUTH exchange uses, wherever one is a word."""
    password = settings.smtp.password
    if not password:
        return text
    user = settings.smtp.username
    return mask_secrets(
        text,
        (
            password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
        ),
    )


# --------------------------------------------------------------------------- bookkeeping


def _outbox_paths(output_dir: Path, period: str, revision: int) -> tuple[Path, Path]:
    base = output_dir / OUTBOX / f"{period}-r{revision}"
    return base.with_suffix(".eml"), base.with_suffix(".json")


def _queue(
    report: ArchivedReport,
    eml: bytes,
    sender: str,
    recipients: tuple[str, ...],
    pending: tuple[str, ...],
    sent: tuple[str, ...],
    message_ids: Mapping[str, str],
    unconfirmed: Mapping[str, str],
    now: dt.datetime,
) -> OutboxEntry:
    """Put the message in the outbox before the first attempt (write-ahead): a run killed
    while sending leaves it there for `deliver_pending`, not lost.

    When the outbox cannot be written (a full disk), NotQueuedError (exit 7): nothing
    is sent, and no half-written entry is left behind.
    """
    output_dir = report.output_dir
    eml_path, meta_path = _outbox_paths(output_dir, report.period, report.revision)
    meta = {
        "period": report.period,
        "revision": report.revision,
        "report_dir": str(report.path.relative_to(output_dir)),
        "eml": eml_path.name,
        "sender": sender,
        "recipients": list(recipients),
        "pending": list(pending),
        "sent": list(sent),
        "unconfirmed": dict(unconfirmed),
        "message_ids": dict(message_ids),
        "created_at": now.isoformat(timespec="seconds"),
        "last_error": "",
    }
    try:
        eml_path.parent.mkdir(parents=True, exist_ok=True)
        disk.atomic_write(eml_path, eml)  # the .json is written last: it is what makes an entry
        disk.atomic_write(meta_path, disk.json_bytes(meta))
    except BaseException as exc:
        if not meta_path.is_file():  # no entry, no message (an earlier run's entry keeps its)
            with contextlib.suppress(OSError):
                eml_path.unlink(missing_ok=True)
        problem = disk.write_problem(exc, eml_path.parent) if isinstance(exc, OSError) else None
        if problem is None:
            raise
        raise NotQueuedError(
            f"email: the {_what(report.period, report.revision)} is archived in {report.path}, "
            f"but its email is neither sent nor queued: {problem}; then run `lgs-reports "
            f"--period {report.period}` again: it reuses the archived brief and sends it"
        ) from None
    entry = _read_outbox_entry(meta_path)
    assert entry is not None
    return entry


def _read_outbox_entry(meta_path: Path) -> OutboxEntry | None:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        output_dir = meta_path.parent.parent
        period = check_period(meta["period"])
        eml = meta_path.parent / PurePosixPath(meta["eml"]).name
        if not eml.is_file():
            raise ValueError(f"{eml.name} is missing")
        return OutboxEntry(
            period=period,
            revision=int(meta["revision"]),
            eml=eml,
            meta=meta_path,
            report_dir=output_dir / period / f"r{int(meta['revision'])}",
            sender=str(meta["sender"]),
            recipients=tuple(meta.get("recipients", ())),
            pending=tuple(meta["pending"]),
            sent=tuple(meta.get("sent", ())),
            message_ids=dict(meta.get("message_ids", {})),
            created_at=str(meta.get("created_at", "")),
            last_error=str(meta.get("last_error", "")),
            unconfirmed={str(k): str(v) for k, v in (meta.get("unconfirmed") or {}).items()},
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, BadInputError) as exc:
        log.warning("email: %s is not a usable outbox entry (%s); left as it is", meta_path, exc)
        return None


def _update_outbox(
    entry: OutboxEntry,
    *,
    sent_now: str | None = None,
    error: str = "",
    unconfirmed: Mapping[str, str] | None = None,
) -> OutboxEntry:
    """Rewrite an entry's .json: a recipient got it (their intent is cleared with it),
    who is being sent it right now (``unconfirmed``), or the last error."""
    pending = tuple(p for p in entry.pending if p != sent_now)
    sent = entry.sent + ((sent_now,) if sent_now else ())
    intents = dict(entry.unconfirmed if unconfirmed is None else unconfirmed)
    intents.pop(sent_now or "", None)
    updated = dataclasses.replace(
        entry,
        pending=pending,
        sent=sent,
        unconfirmed=intents,
        last_error=error or entry.last_error,
    )
    if entry.meta.is_file():
        meta = json.loads(entry.meta.read_text(encoding="utf-8"))
        meta.update(
            pending=list(pending),
            sent=list(sent),
            unconfirmed=intents,
            last_error=updated.last_error,
        )
        disk.atomic_write(entry.meta, disk.json_bytes(meta))
    return updated


def _remove_outbox(entry: OutboxEntry) -> None:
    entry.meta.unlink(missing_ok=True)  # the .json first: without it the entry is gone
    entry.eml.unlink(missing_ok=True)


def _drop_superseded(output_dir: Path, period: str, revision: int) -> None:
    for entry in list_outbox(output_dir):
        if entry.period == period and entry.revision < revision:
            log.info(
                "email: dropping %s from the outbox: revision %d supersedes it", entry.eml, revision
            )
            _remove_outbox(entry)


def _aware(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.astimezone()
