"""Deliver a brief: queue it, send it to whoever lacks it, report what is still pending.

`deliver_report` sends a new revision (``--dry-run``: `write_preview` writes it
as a ``.eml`` instead); `deliver_pending` sends what waits in the outbox (at the
start of every run, and by ``lgs-reports deliver``). One SMTP transaction per
recipient over one connection, so that partial success is known exactly; a
recipient left unconfirmed is sent again (same Message-ID) only with
``deliver --resend-unconfirmed``: at least once when asked, never twice
unasked. If someone still lacks it, DeliveryError (exit 4) says where it waits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from lgs_reports import disk
from lgs_reports.archive import ArchivedReport, RevisionStore
from lgs_reports.config import Settings, check_sender
from lgs_reports.errors import BusyError, DeliveryError
from lgs_reports.mail import outbox, smtp
from lgs_reports.mail.message import POLICY, aware, build_message, configured_recipients, message_id

log = logging.getLogger("lgs_reports.mail")

NO_RECIPIENTS = "email: no recipients configured ([email] to); nothing sent"


PREVIEW_NAME = "email-preview.eml"


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
    disk.atomic_write(target, message.as_bytes(policy=POLICY))
    log.info("email: dry run; message written to %s, nothing sent", target)
    return target


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
    now = aware(now)
    recipients = configured_recipients(settings)
    if not recipients:
        log.info("%s", NO_RECIPIENTS)
        return DeliveryOutcome(report.period, report.revision, note=NO_RECIPIENTS)
    sender = check_sender(settings.email.sender, "[email] from", "[email] to")
    if dry_run:
        path = write_preview(settings, report, figures, now=now)
        return DeliveryOutcome(
            report.period,
            report.revision,
            eml_path=path,
            note=f"email (dry run): message written to {path}; nothing sent",
        )
    smtp.require_host(settings, "[email] to is set")
    message = build_message(settings, report, figures, now=now)
    output_dir = report.output_dir
    with RevisionStore(output_dir).delivery_lock(report.period, settings.output.lock_timeout):
        outbox.drop_superseded(output_dir, report.period, report.revision)
        delivered = RevisionStore(output_dir).delivered_to(report.period, report.revision)
        todo = tuple(r.addr_spec for r in recipients if r.addr_spec.lower() not in delivered)
        had = tuple(r.addr_spec for r in recipients if r.addr_spec.lower() in delivered)
        if not todo:
            what = outbox.brief_name(report.period, report.revision)
            note = f"email: {', '.join(had)} already had the {what}; nothing sent"
            log.info("%s", note)
            return DeliveryOutcome(report.period, report.revision, already_had=had, note=note)
        ids = {
            r.addr_spec: message_id(report.period, report.revision, r.addr_spec, sender)
            for r in recipients
        }
        # an earlier run's entry of this revision: who is unconfirmed survives the rewrite
        _, meta_path = outbox.entry_paths(output_dir, report.period, report.revision)
        earlier = outbox.read_entry(meta_path) if meta_path.is_file() else None
        entry = outbox.queue(
            report,
            message.as_bytes(policy=POLICY),
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


def check_ready(settings: Settings, *, dry_run: bool = False) -> None:
    """What sending will need, checked before a brief is built, so that a missing SMTP
    server costs a second, not a whole run: with recipients (and not a dry run), a host.

    The values themselves (addresses, the sender, the subject, security, timeouts)
    were checked when the settings were read (`config.load_settings`).
    """
    if settings.email.to and not dry_run:
        smtp.require_host(settings, "[email] to is set")


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
    entries = outbox.list_outbox(output_dir)
    if not entries:
        log.info("email: outbox empty; nothing to deliver")
        return []
    if not settings.smtp.host.strip():
        if raise_on_pending:
            smtp.require_host(
                settings, f"{len(entries)} message(s) wait in {output_dir / outbox.OUTBOX}"
            )
        log.warning(
            "email: %d message(s) wait in %s, but no SMTP server is configured "
            "([smtp] host or LGS_SMTP_HOST)",
            len(entries),
            output_dir / outbox.OUTBOX,
        )
        return []
    outcomes = []
    for entry in entries:
        try:
            with RevisionStore(output_dir).delivery_lock(entry.period, 0.0):
                current = outbox.read_entry(entry.meta)  # another run may have sent it meanwhile
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
            f"email: {len(failures)} briefs are still undelivered in {output_dir / outbox.OUTBOX} "
            f"(first: {failures[0]})"
        )
    return outcomes


def _deliver_entry(
    settings: Settings,
    entry: outbox.OutboxEntry,
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
    what = outbox.brief_name(entry.period, entry.revision)
    store = RevisionStore(entry.output_dir)
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
    server = settings.smtp
    attempts = max(server.retries, 0) + 1
    tried = 0
    last_error = ""
    for attempt in range(1, attempts + 1):
        if not todo:
            break
        if attempt > 1:
            delay = server.backoff * 2 ** (attempt - 2)
            log.info("email: attempt %d of %d in %gs", attempt, attempts, delay)
            time.sleep(delay)
        tried = attempt
        try:
            client = smtp.connect(settings, ssl_context)
        except (smtplib.SMTPException, OSError) as exc:
            last_error = smtp.describe(exc, settings)
            log.warning("email: attempt %d of %d failed: %s", attempt, attempts, last_error)
            if smtp.permanent(exc):
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
                    smtp.envelope(client, entry.sender, recipient, len(data))
                    entry = outbox.intend(entry, recipient)
                    in_flight = recipient
                    smtp.send_data(client, data)
                    in_flight = None
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                    # A definite "no" for this recipient (or this transaction): not sent now.
                    if in_flight is not None and not resending:
                        entry = outbox.settle(entry, recipient)
                    in_flight = None
                    last_error = smtp.describe(exc, settings)
                    log.warning("email: %s not accepted for %s: %s", what, recipient, last_error)
                    if smtp.permanent(exc):
                        todo.remove(recipient)
                        refused[recipient] = last_error
                    continue
                todo.remove(recipient)
                sent.append(recipient)
                entry = outbox.record_sent(entry, recipient, mid, manifest_ok)
                log.info("email: sent the %s to %s", what, recipient)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close(client)
            last_error = smtp.describe(exc, settings)
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
            smtp.close(client, polite=False)
            raise
        else:
            smtp.close(client)

    if todo or refused or held:
        try:
            outbox.update_entry(entry, error=last_error)
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
    outbox.remove_entry(entry)
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
    entry: outbox.OutboxEntry,
    todo: Sequence[str],
    refused: Mapping[str, str],
    held: Sequence[str],
    tried: int,
    last_error: str,
) -> str:
    """The one line that says who still lacks the message, why, and what to do."""
    what = outbox.brief_name(entry.period, entry.revision)
    server = settings.smtp
    parts = []
    if todo:
        parts.append(
            f"not delivered to {', '.join(todo)} via {server.host}:{server.port} after {tried} "
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
