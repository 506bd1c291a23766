"""Durable writes, file locks and JSON bytes: what the archive and the outbox both stand on.

A crash (even SIGKILL or a power cut) must never leave a half-written file
where a reader would take it for a whole one: `write_file` fsyncs a new file,
`atomic_write` replaces a file by renaming a fully written sibling over it,
and `fsync_dir` makes a rename itself durable. `file_lock` is an ``flock``
that one thread may take again while it holds it, so that a pipeline can hold
a lock around a whole run and still call functions that take it themselves.
`write_problem` says in one line what a refused write means and what to do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lgs_reports.errors import BusyError

_CHUNK = 1 << 20

# --------------------------------------------------------------------------- writes


def write_file(path: Path, data: bytes) -> None:
    """Write a new file and fsync it (chunked, so memory stays flat for large PDFs)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        for start in range(0, len(view), _CHUNK):
            chunk = view[start : start + _CHUNK]
            while chunk:
                chunk = chunk[os.write(fd, chunk) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Create or replace ``path`` atomically: write a hidden sibling, fsync, rename over it.

    Readers see the old content or the new one, never a mix, even after a crash.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write_file(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make the creations, renames and removals inside a folder durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- write problems

_FULL = {errno.ENOSPC, errno.EDQUOT}
_FORBIDDEN = {errno.EROFS, errno.EACCES, errno.EPERM}
_IN_THE_WAY = {errno.ENOTDIR, errno.EEXIST}


def write_problem(exc: OSError, path: Path | str) -> str | None:
    """What a failed write under the archive means and what to do, in one line, or None
    when ``exc`` is not about the disk (then it is a bug, and is raised as it is).

    ``path`` is named when the error does not carry a file name of its own.
    """
    target = Path(exc.filename or path)
    cause = exc.strerror or str(exc)
    if exc.errno in _FULL:
        return f"cannot write {target} ({cause}); free space, e.g. delete earlier revision folders"
    if exc.errno in _FORBIDDEN:
        return (
            f"cannot write {target} ({cause}); let the user running lgs-reports write there, "
            "or set [output] dir (LGS_OUTPUT_DIR) to a folder it can write"
        )
    if exc.errno in _IN_THE_WAY:
        blocker = next((p for p in (target, *target.parents) if p.is_file()), None)
        if blocker is not None:
            return (
                f"cannot write {target}: {blocker} is a file, not a folder; move it aside "
                "or set [output] dir (LGS_OUTPUT_DIR) to a folder"
            )
    if exc.errno == errno.EIO:
        return f"cannot write {target} ({cause}); check the disk"
    return None


# --------------------------------------------------------------------------- locks

# Locks this process already holds, by (lock file, pid, thread): re-entering is free,
# so the pipeline can hold the period lock around the whole run and still call
# functions that take it themselves. flock() itself would deadlock on a second
# descriptor of the same file.
_held: dict[tuple[str, int, int], int] = {}
_held_guard = threading.Lock()


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, busy: str) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``path`` (created if need be) for the block.

    Waits up to ``timeout`` seconds, then raises BusyError: ``busy``, the lock
    file and the pid holding it. Re-entrant within one thread of one process.
    Creating the lock file can fail like any write (OSError: see `write_problem`).
    """
    key = (str(path.absolute()), os.getpid(), threading.get_ident())
    with _held_guard:
        reentered = key in _held
        if reentered:
            _held[key] += 1
    if reentered:
        try:
            yield path
        finally:
            with _held_guard:
                _held[key] -= 1
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BusyError(
                        f"{busy} (lock {path} held by {_lock_holder(path)}); try again later"
                    ) from None
                time.sleep(min(0.05, left))
        with contextlib.suppress(OSError):  # the pid is for people; a full disk refuses it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _held_guard:
            _held[key] = 1
        try:
            yield path
        finally:
            with _held_guard:
                del _held[key]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _lock_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return f"pid {text}" if text.isdigit() else "another process"


# --------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """Round-trip through JSON so what is stored is exactly what is returned."""
    return json.loads(json.dumps(value, default=_json_default))


def json_bytes(value: Any) -> bytes:
    """The stored form of a manifest, an index or an outbox entry: indented UTF-8, one
    trailing newline; dates, paths, sets and numpy scalars written as JSON knows them."""
    return (json.dumps(value, indent=2, ensure_ascii=False, default=_json_default) + "\n").encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
