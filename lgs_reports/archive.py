"""The archive of briefs: one folder per period, revisions never overwritten, writes atomic.

Layout (``output`` is ``[output] dir``)::

    output/
      index.json  index.html        every archived brief; rebuilt after each change
      2011/                         one folder per period label (2011, 2011-11, 2011-Q4)
        r1/                         an earlier revision, kept exactly as it was
        r2/                         the latest revision (highest number)
          lgs-brief-2011.pdf
          figures.json
          segments/champions.csv
          manifest.json             what, when, from which data; sha256 of each file;
                                    the delivery log
        latest -> r2                symlink for people; the highest rN is the truth
      .staging/2011.<uuid>/         a revision being written; never listed
      .locks/2011.lock              one run per period at a time (fcntl.flock)
      .outbox/                      messages waiting for delivery (see lgs_reports.mail)

`RevisionStore` is the archive's one interface: archive a run's files, load a
revision, read its manifest, list what is archived, record and read the
delivery log, and hold the locks that guard a period's build and delivery.

A write the disk refuses (full, read-only, no permission, a file where a folder
should be) is `ArchiveWriteError` (exit 6), one line naming the path and the
cause (`disk.write_problem`); what was being written is removed first.

Why sibling revision folders: a complete revision appears with one ``rename``
of a fully written, fsynced staging folder, so a run killed at any moment
(even SIGKILL) leaves the archive with the revisions it had before, plus a
stale staging folder that the next run of that period removes. Nothing that is
archived is ever moved or rewritten, except the delivery log inside
``manifest.json``, which is replaced atomically (write aside, rename).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import lgs_reports
from lgs_reports import disk
from lgs_reports.errors import ArchiveWriteError, BadInputError, BusyError, LgsError

log = logging.getLogger("lgs_reports.archive")

MANIFEST = "manifest.json"
LATEST = "latest"
STAGING = ".staging"
LOCKS = ".locks"
INDEX_JSON = "index.json"
INDEX_HTML = "index.html"
INDEX_TEMPLATE = "archive_index.html"
MANIFEST_SCHEMA = 1

# A period label becomes a folder name: no dots (so no "..", no hidden names).
_PERIOD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_REVISION_RE = re.compile(r"r([1-9][0-9]{0,8})")


@dataclasses.dataclass(frozen=True)
class ArchivedReport:
    """One archived revision of a period's brief, as `RevisionStore.archive` left it."""

    period: str
    revision: int
    path: Path  # output/<period>/r<revision>
    reused: bool  # True when an identical revision already existed and nothing was written
    manifest: dict[str, Any]

    @property
    def output_dir(self) -> Path:
        """The archive root (``[output] dir``) this revision lives in."""
        return self.path.parent.parent

    @property
    def location(self) -> str:
        """Where the revision is inside the archive, without the server's folders:
        ``2011/r3``, for messages read away from the server."""
        return f"{self.period}/r{self.revision}"

    @property
    def files(self) -> tuple[str, ...]:
        """The names of the revision's files (``segments/champions.csv``), as archived."""
        return tuple(self.manifest.get("files") or {})


@dataclasses.dataclass(frozen=True)
class ReportSummary:
    """One line of `RevisionStore.list`: the latest revision of a period, and which others
    exist."""

    period: str
    revision: int
    revisions: tuple[int, ...]
    path: Path
    created_at: str
    version: str
    files: tuple[str, ...]
    pdf: str | None  # the PDF's name inside `path`, if there is one
    delivered_to: tuple[str, ...]


# --------------------------------------------------------------------------- names


def check_period(period: str) -> str:
    """The period label, if it is safe as a folder name (``2011``, ``2011-11``, ``2011-Q4``)."""
    if not isinstance(period, str) or not _PERIOD_RE.fullmatch(period):
        raise BadInputError(
            f"archive: {period!r} cannot be a period label; use letters, digits and '-' "
            "only, e.g. 2011, 2011-11 or 2011-Q4"
        )
    return period


def check_file_name(name: str) -> str:
    """A file name for the archive, if it stays inside the revision folder.

    Names are relative POSIX paths (``segments/champions.csv``) in normal form:
    no absolute paths, no ``.``/``..`` or empty parts, no backslashes, no
    control characters (they would reach email headers), no hidden parts, and
    not ``manifest.json``, which the archive writes itself.
    """
    problem = None
    if not isinstance(name, str) or not name:
        problem = "it is empty"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "it contains a control character"
    elif "\\" in name:
        problem = "it contains a backslash"
    elif name.startswith("/"):
        problem = "it is an absolute path"
    else:
        parts = name.split("/")
        if any(p in ("", ".", "..") for p in parts):
            problem = "it has an empty, '.' or '..' part"
        elif any(p.startswith(".") for p in parts):
            problem = "it has a hidden ('.') part"
        elif name == MANIFEST:
            problem = "manifest.json is written by the archive"
        elif len(name.encode("utf-8")) > 1000 or any(len(p.encode()) > 255 for p in parts):
            problem = "it is too long"
    if problem:
        raise BadInputError(f"archive: file name {name!r} refused: {problem}")
    return name


@contextlib.contextmanager
def archive_writes(path: Path | str) -> Iterator[None]:
    """Writes under the archive: a refused one becomes ArchiveWriteError (exit 6)."""
    try:
        yield
    except OSError as exc:
        problem = disk.write_problem(exc, path)
        if problem is None:
            raise
        raise ArchiveWriteError(f"archive: {problem}; the archive is as it was", problem) from None


@contextlib.contextmanager
def _lock(path: Path, timeout: float, busy: str) -> Iterator[Path]:
    """`disk.file_lock` on a lock file under the archive; creating it is an archive write."""
    with contextlib.ExitStack() as stack:
        with archive_writes(path):
            stack.enter_context(disk.file_lock(path, timeout, busy))
        yield path


# --------------------------------------------------------------------------- the store


class RevisionStore:
    """The archive under one folder (``[output] dir``): every period's revisions, their
    manifests and delivery logs, the index, and the locks of each period.

    Everything outside this module (the pipeline, the mail, the CLI) reaches the
    archive through these methods and `ArchivedReport`, never through its files.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RevisionStore({str(self.root)!r})"

    # ---- locks

    def period_lock(self, period: str, timeout: float) -> contextlib.AbstractContextManager[Path]:
        """Hold the lock of one period (``output/.locks/<period>.lock``) for a whole run.

        A second run of the same period waits up to ``timeout`` seconds, then raises
        BusyError naming the lock file and the pid holding it. Runs of different
        periods do not block each other. Re-entrant within one thread of one process.
        """
        period = check_period(period)
        return _lock(
            self.root / LOCKS / f"{period}.lock",
            timeout,
            f"another run is building the {period} brief",
        )

    def delivery_lock(self, period: str, timeout: float) -> contextlib.AbstractContextManager[Path]:
        """Hold the lock that guards a period's delivery log and outbox entries.

        Separate from `period_lock` so that a run of one period can deliver what
        another period left in the outbox while that period is being rebuilt.
        """
        period = check_period(period)
        return _lock(
            self.root / LOCKS / f"{period}.deliver.lock",
            timeout,
            f"another run is delivering the {period} brief",
        )

    def _index_lock(self) -> contextlib.AbstractContextManager[Path]:
        return _lock(
            self.root / LOCKS / "_index.lock", 60.0, "another run is rebuilding the archive index"
        )

    # ---- writing

    def archive(
        self,
        period: str,
        files: Mapping[str, bytes],
        *,
        fingerprint: Mapping[str, Any],
        created_at: dt.datetime,
        lock_timeout: float = 30.0,
    ) -> ArchivedReport:
        """Archive one run's output as a new revision of ``period``, or reuse an identical one.

        ``files`` maps names inside the revision folder (``lgs-brief-2011.pdf``,
        ``figures.json``, ``segments/champions.csv``) to their bytes. If the latest
        revision holds exactly the same names and sha256s, it is returned with
        ``reused=True`` and nothing is written; otherwise a new revision is written
        to a staging folder, fsynced and renamed into place. Takes the period lock
        (re-entrant: the caller may already hold it), then rebuilds the index.
        """
        output_dir = self.root
        period = check_period(period)
        if not files:
            raise BadInputError(f"archive: nothing to archive for {period}: no files were given")
        blobs = {check_file_name(name): bytes(data) for name, data in files.items()}
        folders = {"/".join(n.split("/")[:i]) for n in blobs for i in range(1, n.count("/") + 1)}
        clash = sorted(folders & set(blobs))
        if clash:
            raise BadInputError(f"archive: {clash[0]!r} cannot be both a file and a folder")
        digests = {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(blobs.items())
        }
        with self.period_lock(period, lock_timeout), archive_writes(output_dir):
            self.clean_staging()
            period_dir = output_dir / period
            complete, highest = _revisions(period_dir)
            if complete:
                latest = complete[-1]
                manifest = _read_manifest(period_dir / f"r{latest}")
                if manifest.get("files") == digests:
                    _point_latest(period_dir, latest)
                    self._rebuild_index_or_warn()
                    log.info(
                        "archive: %s unchanged; reusing revision %d in %s",
                        period,
                        latest,
                        period_dir / f"r{latest}",
                    )
                    return ArchivedReport(period, latest, period_dir / f"r{latest}", True, manifest)

            revision = highest + 1
            manifest = {
                "schema": MANIFEST_SCHEMA,
                "period": period,
                "revision": revision,
                "created_at": created_at.isoformat(),
                "version": lgs_reports.__version__,
                "fingerprint": disk.jsonable(dict(fingerprint)),
                "files": digests,
                "deliveries": [],
            }
            staging = output_dir / STAGING / f"{period}.{uuid.uuid4().hex}"
            target = period_dir / f"r{revision}"
            log.info("archive: writing %d files for %s revision %d", len(blobs), period, revision)
            try:
                _write_tree(staging, blobs, manifest)
                new_period_dir = not period_dir.exists()
                period_dir.mkdir(parents=True, exist_ok=True)
                if new_period_dir:
                    disk.fsync_dir(output_dir)
                os.rename(staging, target)  # the one step that makes the revision visible
            except BaseException:
                # a crash instead leaves it to clean_staging
                shutil.rmtree(staging, ignore_errors=True)
                raise
            disk.fsync_dir(period_dir)
            disk.fsync_dir(staging.parent)
            _point_latest(period_dir, revision)
            self._rebuild_index_or_warn()
            log.info("archive: %s revision %d archived in %s", period, revision, target)
            return ArchivedReport(period, revision, target, False, manifest)

    def clean_staging(self) -> list[Path]:
        """Remove staging folders left by runs that died; returns what was removed.

        A staging folder ``.staging/<period>.<uuid>`` is stale when its period's
        lock is free (or held by this very thread, as `archive` does). Locks
        are tried without waiting, so a run in progress is never disturbed.
        """
        staging = self.root / STAGING
        if not staging.is_dir():
            return []
        removed = []
        for entry in sorted(staging.iterdir()):
            owner = entry.name.split(".", 1)[0]
            if not _PERIOD_RE.fullmatch(owner):
                continue
            try:
                # Re-entrant: free for the period the caller holds; never waits for others.
                with self.period_lock(owner, 0.0):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
                    removed.append(entry)
                    log.info("archive: removed stale staging folder %s", entry)
            except BusyError:
                continue
        return removed

    # ---- reading

    def load(self, period: str, revision: int | None = None) -> ArchivedReport:
        """An archived revision (the latest by default), e.g. to deliver it again.

        An unknown period or revision is a BadInputError that lists what exists.
        """
        period = check_period(period)
        complete, _ = _revisions(self.root / period)
        if not complete:
            known = self._periods()
            if not known:
                raise BadInputError(
                    f"archive: no brief for {period}: nothing is archived in {self.root} yet"
                )
            raise BadInputError(
                f"archive: no brief for {period} in {self.root}; archived periods: "
                f"{', '.join(known)}"
            )
        if revision is None:
            revision = complete[-1]
        elif revision not in complete:
            raise BadInputError(
                f"archive: {period} has no revision {revision}; revisions: "
                f"{', '.join(str(r) for r in complete)}"
            )
        path = self.root / period / f"r{revision}"
        return ArchivedReport(period, revision, path, True, _read_manifest(path))

    def read_manifest(self, period: str, revision: int | None = None) -> dict[str, Any]:
        """The manifest of a period's latest (or given) revision (``archive show PERIOD``)."""
        return self.load(period, revision).manifest

    def is_archived(self, period: str, revision: int) -> bool:
        """True when that revision is in the archive, complete with its manifest."""
        return (self.root / check_period(period) / f"r{revision}" / MANIFEST).is_file()

    def list(self) -> list[ReportSummary]:
        """Every archived period with its latest revision, newest period label first.

        (Labels sort by time within a kind: ``2011-Q4``, ``2011-11``, ``2011``, ``2010-12``.)
        """
        summaries = []
        for period in reversed(self._periods()):
            complete, _ = _revisions(self.root / period)
            path = self.root / period / f"r{complete[-1]}"
            try:
                manifest = _read_manifest(path)
            except LgsError as exc:
                log.warning("%s", exc)
                continue
            summaries.append(_summary(period, complete, path, manifest))
        return summaries

    def _periods(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and _PERIOD_RE.fullmatch(p.name) and _revisions(p)[0]
        )

    # ---- the delivery log

    def delivered_to(self, period: str, revision: int) -> set[str]:
        """Recipients (lower-case) the revision's delivery log says have it; none when the
        revision or its manifest is missing or unreadable (nobody is known to have it)."""
        try:
            manifest = self.read_manifest(period, revision)
        except LgsError:
            return set()
        return {
            str(d.get("recipient", "")).lower()
            for d in manifest.get("deliveries") or []
            if isinstance(d, Mapping) and d.get("revision", revision) == revision
        }

    def record_delivery(
        self, period: str, revision: int, entries: Iterable[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Append delivery-log entries to a revision's manifest atomically; returns the new
        manifest.

        Each entry is ``{recipient, message_id, sent_at, revision}``; an entry
        for a recipient already logged for that revision is ignored, so the log
        says once who got what. Holds the period's `delivery_lock`.
        """
        period = check_period(period)
        report_dir = self.root / period / f"r{revision}"
        with self.delivery_lock(period, 60.0), archive_writes(report_dir / MANIFEST):
            manifest = _read_manifest(report_dir)
            deliveries = list(manifest.get("deliveries") or [])
            seen = {(str(d.get("recipient", "")).lower(), d.get("revision")) for d in deliveries}
            added = 0
            for entry in entries:
                missing = {"recipient", "message_id", "sent_at", "revision"} - set(entry)
                if missing:
                    raise ValueError(f"delivery log entry without {', '.join(sorted(missing))}")
                key = (str(entry["recipient"]).lower(), entry["revision"])
                if key in seen:
                    continue
                seen.add(key)
                deliveries.append(
                    disk.jsonable(
                        {k: entry[k] for k in ("recipient", "message_id", "sent_at", "revision")}
                    )
                )
                added += 1
            if added:
                manifest["deliveries"] = deliveries
                for stale in report_dir.glob(f".{MANIFEST}.*.tmp"):
                    stale.unlink(missing_ok=True)
                disk.atomic_write(report_dir / MANIFEST, disk.json_bytes(manifest))
        if added:
            self._rebuild_index_or_warn()  # the delivery is logged; the next run redoes the index
        return manifest

    # ---- the index

    def rebuild_index(self) -> None:
        """Rewrite ``index.json`` and ``index.html`` from the archive, each atomically."""
        output_dir = self.root
        with self._index_lock(), archive_writes(output_dir):
            for stale in output_dir.glob(".index.*.tmp"):
                stale.unlink(missing_ok=True)
            reports = []
            for period in self._periods():
                complete, _ = _revisions(output_dir / period)
                revisions = []
                for number in complete:
                    path = output_dir / period / f"r{number}"
                    try:
                        manifest = _read_manifest(path)
                    except LgsError as exc:
                        log.warning("%s", exc)
                        continue
                    summary = _summary(period, [number], path, manifest)
                    rel = f"{period}/r{number}"
                    revisions.append(
                        {
                            "revision": number,
                            "path": rel,
                            "pdf": f"{rel}/{summary.pdf}" if summary.pdf else None,
                            "created_at": summary.created_at,
                            "version": summary.version,
                            "files": list(summary.files),
                            "delivered_to": list(summary.delivered_to),
                        }
                    )
                if revisions:
                    reports.append({"period": period, **revisions[-1], "revisions": revisions})
            disk.atomic_write(
                output_dir / INDEX_JSON, disk.json_bytes({"schema": 1, "reports": reports})
            )
            disk.atomic_write(output_dir / INDEX_HTML, _index_html(reports).encode("utf-8"))

    def _rebuild_index_or_warn(self) -> None:
        """Only the index may lag: a revision (or a delivery) is complete without it."""
        try:
            self.rebuild_index()
        except ArchiveWriteError as exc:
            log.warning("%s; the index is rebuilt by the next run", exc)


# --------------------------------------------------------------------------- files


def _write_tree(root: Path, blobs: Mapping[str, bytes], manifest: Mapping[str, Any]) -> None:
    """Write every file and the manifest under ``root`` and make them durable."""
    root.mkdir(parents=True)
    dirs = {root}
    for name, data in blobs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        dirs.update(p for p in path.parents if p == root or root in p.parents)
        disk.write_file(path, data)
    disk.write_file(root / MANIFEST, disk.json_bytes(manifest))
    for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        disk.fsync_dir(d)


def _point_latest(period_dir: Path, revision: int) -> None:
    """Point ``<period>/latest`` at ``r<revision>``; a convenience, never the source of truth."""
    link = period_dir / LATEST
    target = f"r{revision}"
    for stale in period_dir.glob(f".{LATEST}.*"):
        with contextlib.suppress(OSError):
            stale.unlink()
    try:
        if link.is_symlink() and os.readlink(link) == target:
            return
        tmp = period_dir / f".{LATEST}.{uuid.uuid4().hex}"
        os.symlink(target, tmp)
        os.replace(tmp, link)
        disk.fsync_dir(period_dir)
    except OSError as exc:
        log.warning(
            "archive: cannot point %s at %s (%s); the highest rN is the latest",
            link,
            target,
            exc.strerror or exc,
        )


def _revisions(period_dir: Path) -> tuple[list[int], int]:
    """Complete revisions (with a manifest) in order, and the highest rN number in use."""
    complete, highest = [], 0
    if not period_dir.is_dir():
        return complete, highest
    for entry in period_dir.iterdir():
        match = _REVISION_RE.fullmatch(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir():
            continue
        number = int(match.group(1))
        highest = max(highest, number)
        if (entry / MANIFEST).is_file():
            complete.append(number)
    return sorted(complete), highest


def _read_manifest(report_dir: Path) -> dict[str, Any]:
    path = report_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(
            f"archive: {path} is missing; {report_dir} is not an archived brief"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LgsError(
            f"archive: {path} is unreadable ({exc}); restore it or move {report_dir} aside"
        ) from None
    if not isinstance(data, dict):
        raise LgsError(f"archive: {path} is not a manifest; restore it or move {report_dir} aside")
    return data


def _summary(
    period: str, complete: list[int], path: Path, manifest: Mapping[str, Any]
) -> ReportSummary:
    files = tuple(manifest.get("files", {}))
    pdfs = [f for f in files if f.lower().endswith(".pdf")]
    delivered = []
    for entry in manifest.get("deliveries", []):
        recipient = entry.get("recipient") if isinstance(entry, Mapping) else None
        if recipient and recipient not in delivered:
            delivered.append(recipient)
    return ReportSummary(
        period=period,
        revision=complete[-1],
        revisions=tuple(complete),
        path=path,
        created_at=str(manifest.get("created_at", "")),
        version=str(manifest.get("version", "")),
        files=files,
        pdf=pdfs[0] if pdfs else None,
        delivered_to=tuple(delivered),
    )


def format_report_list(reports: Sequence[ReportSummary]) -> str:
    """The human table for ``archive list`` (no trailing newline)."""
    if not reports:
        return "no briefs archived yet"
    rows = [("period", "revision", "created", "delivered to", "pdf")]
    for r in reports:
        revisions = f"r{r.revision}" + (f" (of {len(r.revisions)})" if len(r.revisions) > 1 else "")
        delivered = f"{len(r.delivered_to)} recipient(s)" if r.delivered_to else "-"
        pdf = str(r.path / r.pdf) if r.pdf else "-"
        rows.append((r.period, revisions, r.created_at[:16].replace("T", " "), delivered, pdf))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


def format_manifest(manifest: Mapping[str, Any]) -> str:
    """The human text for ``archive show PERIOD`` (no trailing newline)."""
    lines = [
        f"period:      {manifest.get('period', '?')}",
        f"revision:    {manifest.get('revision', '?')}",
        f"created at:  {manifest.get('created_at', '?')}",
        f"version:     {manifest.get('version', '?')}",
        "warehouse:",
    ]
    for key, value in (manifest.get("fingerprint") or {}).items():
        lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    lines.append("files:")
    for name, meta in (manifest.get("files") or {}).items():
        lines.append(f"  {name}  {meta.get('size', '?')} bytes  sha256 {meta.get('sha256', '?')}")
    deliveries = manifest.get("deliveries") or []
    lines.append("delivered:" + ("" if deliveries else " not yet"))
    for d in deliveries:
        lines.append(f"  {d.get('recipient')}  {d.get('sent_at')}  {d.get('message_id')}")
    return "\n".join(lines)


def _index_html(reports: list[dict[str, Any]]) -> str:
    """``index.html`` (``templates/archive_index.html``): the newest period first."""
    from lgs_reports.render import template_environment

    rows = [
        {
            "period": r["period"],
            "pdf": r["pdf"],
            "pdf_name": r["pdf"].rsplit("/", 1)[-1] if r["pdf"] else "no PDF",
            "revision": r["revision"],
            "created": r["created_at"][:16].replace("T", " "),
            "delivered_to": r["delivered_to"],
            "earlier": [(v["pdf"], f"r{v['revision']}") for v in r["revisions"][:-1]],
        }
        for r in reversed(reports)
    ]
    return template_environment().get_template(INDEX_TEMPLATE).render(rows=rows)
