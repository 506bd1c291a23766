"""The email of one archived revision: subject, body (HTML and plain text), attachments.

One message per revision goes to every configured recipient; the Message-ID
is added per recipient when sending (`message_id`: the same on every retry).
The body is rendered from ``templates/email.html`` and ``email.txt`` (a
user's ``[report] templates_dir`` first); attachments are left out, largest
first, while the message would exceed ``[email] max_size_mb``, and the body
then says where in the archive they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
import email.utils
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from lgs_reports import formatting
from lgs_reports.archive import ArchivedReport
from lgs_reports.config import Settings, breaks_line, check_subject, validate_address
from lgs_reports.errors import BadInputError
from lgs_reports.resources import resource_dir

log = logging.getLogger("lgs_reports.mail")

TOP_RECOMMENDATIONS = 3


_MB = 1_000_000  # max_size_mb counts decimal megabytes: the stricter reading


POLICY = email.policy.SMTP  # CRLF line ends, as SMTP wants them


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
    now = aware(now)
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
        size = len(message.as_bytes(policy=POLICY))
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
    message = EmailMessage(policy=POLICY)
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


def aware(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.astimezone()
