"""The email of one archived revision: subject, body (HTML and plain text), attachments.

A managing director reads the subject and three sentences on a phone: the
subject names the period and the headline figure with its change
(``[email] subject``, placeholders `config.SUBJECT_FIELDS`); the body says what
happened, why and what to do (`headlines.story`), then the headline KPIs as
the brief's summary shows them (`headlines.kpi_cards`: the same words, arrows
and good/bad colours) and the top recommendations. It is rendered from
``templates/email.html`` and ``email.txt`` by the brief's own Jinja
environment (`render.template_environment`: its filters, a user's
``[report] templates_dir`` first); the HTML is a table layout with inline
styles only, no external images and no server paths, since mail clients drop
style sheets and the reader is not on the server.

Attachments: the PDF always; the customer action lists (the archive's
``segments/action-lists.xlsx``, else its CSVs zipped) only with ``[email]
attach_lists``, since they are customer-level data. While the message would
exceed ``[email] max_size_mb`` the lists, then the PDF, are left out, and the
body says where in the archive they are (``2011/r3/segments/``).
The Message-ID is added per recipient when sending (`message_id`).
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
from pathlib import PurePosixPath
from typing import Any

from lgs_reports import formatting, headlines
from lgs_reports.archive import ArchivedReport
from lgs_reports.config import Settings, breaks_line, check_subject, validate_address
from lgs_reports.errors import BadInputError
from lgs_reports.headlines import KpiCard, Story
from lgs_reports.render import template_environment

log = logging.getLogger("lgs_reports.mail")

POLICY = email.policy.SMTP  # CRLF line ends, as SMTP wants them
_MB = 1_000_000  # max_size_mb counts decimal megabytes: the stricter reading
# the action lists as one workbook, when archived: action_lists.WORKBOOK, not imported here
# (that module loads pandas, which sending mail does not need)
WORKBOOK = "segments/action-lists.xlsx"
_XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A file the email can carry, and where it stays in the archive if it is left out."""

    filename: str  # as the recipient sees it
    data: bytes  # empty when it is not to be attached at all (the lists without attach_lists)
    mime: tuple[str, str]
    what: str  # "The PDF", "The customer action lists (a workbook)"
    plural: bool  # the action lists are they, the PDF is it
    archived_as: str  # inside the archive, without the server's folders: "2011/r3/segments/"


@dataclasses.dataclass(frozen=True)
class EmailContext:
    """Everything ``templates/email.html`` and ``email.txt`` render; nothing else reaches them."""

    company: str
    subject: str
    period_title: str  # e.g. November 2011
    partial: str  # " (to 9 Dec)" when the data ends inside the period, else ""
    revision: int
    created: str  # date the brief was built, e.g. 10 Dec 2011
    location: str  # the revision inside the archive: 2011/r3
    sample_data: bool
    story: Story
    kpis: tuple[KpiCard, ...]
    recommendations: tuple[Mapping[str, Any], ...]
    attached: tuple[str, ...]  # file names attached
    left_out: tuple[str, ...]  # one sentence per file not attached: why, and where it is


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


def message_id(period: str, revision: int, recipient: str, sender: Address) -> str:
    """The Message-ID of one revision for one recipient: the same on every retry.

    Deterministic, so a receiving system that saw it once can drop a duplicate.
    """
    digest = hashlib.sha256(f"{period}\0{revision}\0{recipient.lower()}".encode()).hexdigest()
    domain = sender.domain or "lgs-reports.invalid"
    return f"<lgs-brief.{period}.r{revision}.{digest[:20]}@{domain}>"


# --------------------------------------------------------------------------- the message


def build_message(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The email for one archived revision, to every configured recipient.

    ``figures`` defaults to the revision's figures.json. Attachments are left
    out, the action lists first, while the message would exceed ``[email]
    max_size_mb``; the body then says where in the archive they are.
    """
    now = aware(now)
    figures = _load_figures(report) if figures is None else figures
    subject = _subject(settings, report, figures)
    pdf, lists = _attachments(settings, report)
    wanted = [a for a in (pdf, lists if settings.email.attach_lists else None) if a is not None]
    limit = settings.email.max_size_mb * _MB
    # everything wanted; then without the lists; then without the PDF too
    plans = [wanted[:n] for n in range(len(wanted), -1, -1)]
    for carried in plans:
        message = _compose(settings, report, figures, subject, now, carried, (pdf, lists))
        size = len(message.as_bytes(policy=POLICY))
        if size <= limit:
            break
        log.info(
            "email: message with %s is %.1f MB, over the %g MB limit",
            ", ".join(a.filename for a in carried) or "no attachments",
            size / _MB,
            settings.email.max_size_mb,
        )
    else:
        log.warning("email: the message is over the size limit even without attachments")
    return message


def _attachments(
    settings: Settings, report: ArchivedReport
) -> tuple[Attachment | None, Attachment | None]:
    """The PDF and the action lists, as the revision archived them (either may be missing)."""
    return _pdf(report), _lists(report, read=settings.email.attach_lists)


def _pdf(report: ArchivedReport) -> Attachment | None:
    name = next((f for f in report.files if f.lower().endswith(".pdf")), None)
    if name is None:
        return None
    data = (report.path / name).read_bytes()
    where = f"{report.location}/{name}"
    filename = PurePosixPath(name).name
    return Attachment(filename, data, ("application", "pdf"), "The PDF", False, where)


def _lists(report: ArchivedReport, *, read: bool) -> Attachment | None:
    """The workbook when the revision has one, else its segment CSVs zipped; their bytes
    only when they are to be attached (``read``)."""
    where = f"{report.location}/segments/"
    if WORKBOOK in report.files:
        data = (report.path / WORKBOOK).read_bytes() if read else b""
        name = f"lgs-action-lists-{report.period}.xlsx"
        return Attachment(name, data, _XLSX, "The customer action lists (a workbook)", True, where)
    csvs = sorted(f for f in report.files if f.startswith("segments/") and f.endswith(".csv"))
    if not csvs:
        return None
    data = _zip(report, csvs) if read else b""
    what = f"The customer action lists ({len(csvs)} CSV files)"
    name = f"lgs-action-lists-{report.period}.zip"
    return Attachment(name, data, ("application", "zip"), what, True, where)


def _compose(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any],
    subject: str,
    now: dt.datetime,
    carried: Sequence[Attachment],
    files: Sequence[Attachment | None],
) -> EmailMessage:
    context = _context(settings, report, figures, subject, carried, files)
    env = template_environment(settings.report.templates_dir or None)
    message = EmailMessage(policy=POLICY)
    message["From"] = validate_address(settings.email.sender, "[email] from")
    message["To"] = configured_recipients(settings)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-LGS-Period"] = report.period
    message["X-LGS-Revision"] = str(report.revision)
    # quoted-printable keeps the body 7-bit, so any SMTP server takes it as is.
    message.set_content(env.get_template("email.txt").render(ctx=context), cte="quoted-printable")
    message.add_alternative(
        env.get_template("email.html").render(ctx=context), subtype="html", cte="quoted-printable"
    )
    for part in message.walk():  # add_alternative repeats MIME-Version in the part; once is right
        if part is not message:
            del part["MIME-Version"]
    for attachment in carried:
        maintype, subtype = attachment.mime
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _context(
    settings: Settings,
    report: ArchivedReport,
    figures: Mapping[str, Any],
    subject: str,
    carried: Sequence[Attachment],
    files: Sequence[Attachment | None],
) -> EmailContext:
    period = figures.get("period") or {}
    created = report.manifest.get("created_at")
    try:
        created_text = formatting.date(created) if created else "–"
    except ValueError:
        created_text = str(created)
    return EmailContext(
        company=settings.report.company,
        subject=subject,
        period_title=str(period.get("title") or report.period),
        partial=headlines.partial_mark(period),
        revision=report.revision,
        created=created_text,
        location=report.location,
        sample_data=bool(figures.get("sample_data")),
        story=headlines.story(figures),
        kpis=headlines.kpi_cards(figures),
        recommendations=tuple(headlines.top_recommendations(figures)),
        attached=tuple(a.filename for a in carried),
        left_out=tuple(_left_out(settings, a) for a in files if a and a not in carried),
    )


def _left_out(settings: Settings, attachment: Attachment) -> str:
    """Why a file is not attached and where it is: never left out without a word."""
    verb, where = ("are", "they are") if attachment.plural else ("is", "it is")
    where += f" in the report archive: {attachment.archived_as}"
    if not attachment.data:  # the action lists, not asked for
        return (
            f"{attachment.what} {verb} not attached: they hold customer-level data (to attach "
            f"them, set [email] attach_lists); {where}"
        )
    return (
        f"{attachment.what} ({len(attachment.data) / _MB:.1f} MB) {verb} not attached, to keep "
        f"this email within the {settings.email.max_size_mb:g} MB limit; {where}"
    )


def _subject(settings: Settings, report: ArchivedReport, figures: Mapping[str, Any]) -> str:
    template = check_subject(settings.email.subject)
    fields = headlines.subject_fields(figures, report.period)
    for name, value in fields.items():
        if breaks_line(value):
            raise BadInputError(
                f"email: the {name} {value!r} from figures.json contains a line break or "
                "control character; it cannot go into a subject line"
            )
    subject = template.format(company=settings.report.company, **fields)
    if figures.get("sample_data"):
        subject = "[SAMPLE DATA] " + subject
    return subject


def _zip(report: ArchivedReport, csvs: Sequence[str]) -> bytes:
    """The segment CSVs as one zip, named as in their folder, dated when the brief was built."""
    created = report.manifest.get("created_at") or "1980-01-01T00:00:00"
    try:
        stamp = dt.datetime.fromisoformat(str(created)).timetuple()[:6]
    except ValueError:
        stamp = (1980, 1, 1, 0, 0, 0)
    stamp = max(stamp, (1980, 1, 1, 0, 0, 0))  # zip cannot date before 1980
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in csvs:
            info = zipfile.ZipInfo(str(PurePosixPath(name).relative_to("segments")), stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (report.path / name).read_bytes())
    return buffer.getvalue()


def _load_figures(report: ArchivedReport) -> Mapping[str, Any]:
    path = report.path / "figures.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("email: cannot read %s (%s); the body will have no figures", path, exc)
        return {}
    return data if isinstance(data, Mapping) else {}


def aware(now: dt.datetime | None) -> dt.datetime:
    """``now`` with a time zone (the local one when it has none); the clock when None."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.astimezone()
