"""The outbox: messages waiting for delivery, and who has each one, durable on disk.

Before the first attempt a message is queued as ``output/.outbox/<period>-r<rev>.eml``
(exactly what is sent) and ``.json`` (the recipients pending, sent and
unconfirmed, the Message-IDs, the last error); the ``.json`` is written last:
it is what makes an entry. Each recipient's intent (`intend`) is written to
the ``.json`` before DATA, and the result after it (`record_sent`: the
revision's delivery log first, then the entry), so a run stopped in between
leaves the recipient *unconfirmed*, never sent twice unasked. When the outbox
cannot be written, NotQueuedError (exit 7): neither sent nor queued.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from lgs_reports import disk
from lgs_reports.archive import ArchivedReport, RevisionStore, check_period
from lgs_reports.errors import ArchiveWriteError, BadInputError, DeliveryError, NotQueuedError

log = logging.getLogger("lgs_reports.mail")

OUTBOX = ".outbox"


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
    # recorded yet: they may have it (see `deliver._deliver_entry`)
    unconfirmed: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def output_dir(self) -> Path:
        """The archive root the entry's outbox (and its revision) live in."""
        return self.meta.parent.parent


def brief_name(period: str, revision: int) -> str:
    """How messages name a revision: ``2011 brief (r3)``."""
    return f"{period} brief (r{revision})"


def list_outbox(output_dir: Path | str) -> list[OutboxEntry]:
    """The messages waiting in ``output/.outbox``, oldest period label first."""
    outbox = Path(output_dir) / OUTBOX
    if not outbox.is_dir():
        return []
    entries = []
    for meta in sorted(outbox.glob("*.json")):
        entry = read_entry(meta)
        if entry is not None:
            entries.append(entry)
    return entries


def entry_paths(output_dir: Path, period: str, revision: int) -> tuple[Path, Path]:
    """The ``.eml`` and ``.json`` of a revision's outbox entry."""
    base = output_dir / OUTBOX / f"{period}-r{revision}"
    return base.with_suffix(".eml"), base.with_suffix(".json")


def queue(
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
    eml_path, meta_path = entry_paths(output_dir, report.period, report.revision)
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
        what = brief_name(report.period, report.revision)
        raise NotQueuedError(
            f"email: the {what} is archived in {report.path}, "
            f"but its email is neither sent nor queued: {problem}; then run `lgs-reports "
            f"--period {report.period}` again: it reuses the archived brief and sends it"
        ) from None
    entry = read_entry(meta_path)
    assert entry is not None
    return entry


def read_entry(meta_path: Path) -> OutboxEntry | None:
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


def update_entry(
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


def remove_entry(entry: OutboxEntry) -> None:
    entry.meta.unlink(missing_ok=True)  # the .json first: without it the entry is gone
    entry.eml.unlink(missing_ok=True)


def drop_superseded(output_dir: Path, period: str, revision: int) -> None:
    for entry in list_outbox(output_dir):
        if entry.period == period and entry.revision < revision:
            log.info(
                "email: dropping %s from the outbox: revision %d supersedes it", entry.eml, revision
            )
            remove_entry(entry)


def intend(entry: OutboxEntry, recipient: str) -> OutboxEntry:
    """Write, before DATA, that the message is being handed to the server for ``recipient``.

    Until the answer is recorded, a crash leaves them unconfirmed rather than sent
    twice. A disk that refuses the write stops delivery: nothing was sent.
    """
    if recipient in entry.unconfirmed:  # a resend: the first intent (and its time) stands
        return entry
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        return update_entry(entry, unconfirmed={**entry.unconfirmed, recipient: since})
    except OSError as exc:
        problem = disk.write_problem(exc, entry.meta) or f"cannot write {entry.meta} ({exc})"
        raise DeliveryError(
            f"email: the {brief_name(entry.period, entry.revision)} is archived but not sent to "
            f"{recipient}: {problem}; it waits in {entry.eml}: then run `lgs-reports deliver`"
        ) from None


def settle(entry: OutboxEntry, recipient: str) -> OutboxEntry:
    """Clear the intent for ``recipient`` after a definite refusal (nothing was taken)."""
    rest = {r: t for r, t in entry.unconfirmed.items() if r != recipient}
    try:
        return update_entry(entry, unconfirmed=rest)
    except OSError as exc:  # they stay unconfirmed: safe, and the operator is told
        log.warning("email: cannot update %s (%s)", entry.meta, exc)
        return entry


def record_sent(entry: OutboxEntry, recipient: str, mid: str, manifest_ok: bool) -> OutboxEntry:
    """Record that the server took the message for ``recipient``: the delivery log first,
    then the outbox entry (which clears the intent), before the next recipient is tried.

    A failure here is not a delivery failure (the server has the message), so it is
    not retried, which would send it twice: the recipient stays unconfirmed.
    """
    sent_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        if manifest_ok:
            RevisionStore(entry.output_dir).record_delivery(
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
        return update_entry(entry, sent_now=recipient)
    except (OSError, ArchiveWriteError) as exc:
        problem = (
            exc.problem
            if isinstance(exc, ArchiveWriteError)
            else disk.write_problem(exc, entry.meta) or str(exc)
        )
        what = brief_name(entry.period, entry.revision)
        raise DeliveryError(
            f"email: the server took the {what} for {recipient}, "
            f"but that could not be recorded: {problem}; {recipient} has it but stays listed "
            "as unconfirmed: once fixed, run `lgs-reports deliver` for anyone still pending, "
            f"without --resend-unconfirmed (it would send {recipient} a second copy)"
        ) from None
