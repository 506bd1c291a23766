"""Every failure is one clear line: a full or read-only disk, a file in the way, SIGTERM,
and a delivery cut off after the server took the message.

Each test asserts the exit code, the one ``error:`` line, and what the warehouse,
the archive and the outbox hold afterwards. Disks are real: a small tmpfs is
mounted inside the test's folder (root only; skipped with the reason otherwise),
and the same errors are also raised at the write seam, which runs anywhere.
Interruptions are real signals sent to child processes, synchronised by what
they print, never by sleeping.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lgs_reports import disk
from lgs_reports.errors import (
    EXIT_ARCHIVE,
    EXIT_DELIVERY_PENDING,
    EXIT_NOT_QUEUED,
    EXIT_TERMINATED,
)
from lgs_reports.mail import list_outbox
from tests.test_delivery import Inbox, smtp_server
from tests.test_report import smtp_on_localhost

PERIOD = "2011-11"
BEFORE = "2011-10"
ENOSPC = "No space left on device"

duckdb_only = pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)


def tree(root: Path, *, locks: bool = False) -> dict[str, bytes | str]:
    """Every file (its bytes), folder and link under ``root``; ``.locks`` only if asked."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if not locks and rel.split("/")[0] == ".locks":
            continue
        if path.is_symlink():
            found[rel] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[rel] = "folder"
        else:
            found[rel] = path.read_bytes()
    return found


def staged(output: Path) -> list[Path]:
    staging = output / ".staging"
    return sorted(staging.iterdir()) if staging.is_dir() else []


# --------------------------------------------------------------------------- tmpfs


@pytest.fixture
def tmpfs() -> Iterator[Callable[..., Path]]:
    """Mount a small tmpfs at a folder (made if missing); unmounted after the test."""
    mounted: list[Path] = []

    def mount(path: Path, size: str, *, read_only: bool = False) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root; test_*_at_the_write_seam cover the same")
        path.mkdir(parents=True, exist_ok=True)
        options = f"size={size},mode=0755" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(folder: Path) -> Path:
    """Write a file into ``folder`` until its disk is full; returns the file."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (65536, 4096, 1):  # the last pages too
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


# --------------------------------------------------------------------------- the archive


@duckdb_only
def test_a_full_disk_stops_the_archive_and_leaves_it_as_it_was(sampled, tmp_path, tmpfs, snapshot):
    output = tmpfs(tmp_path / "output", "4m")
    assert sampled(["--period", BEFORE, "--no-email"]).code == 0
    filler = fill(output)
    archived = tree(output)
    warehouse = snapshot()

    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert (code, out) == (EXIT_ARCHIVE, "")
    assert err.splitlines()[-1] == (
        f"error: archive: cannot write {output} ({ENOSPC}); free space, e.g. delete earlier "
        "revision folders; the archive is as it was"
    )
    assert err.count("error:") == 1 and "Traceback" not in err
    assert tree(output) == archived and staged(output) == []  # nothing half-written
    assert snapshot() == warehouse

    filler.unlink()  # space freed: the same command now works
    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert code == 0, err
    assert (output / PERIOD / "r1" / "manifest.json").is_file()


@duckdb_only
def test_a_read_only_output_folder_is_one_line_and_exit_6(sampled, tmp_path, tmpfs, snapshot):
    output = tmpfs(tmp_path / "output", "4m")
    assert sampled(["--period", BEFORE, "--no-email"]).code == 0
    remount_read_only(output)
    archived = tree(output, locks=True)
    warehouse = snapshot()

    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert (code, out) == (EXIT_ARCHIVE, "")
    assert err.splitlines()[-1] == (
        f"error: archive: cannot write {output / '.locks' / (PERIOD + '.lock')} (Read-only "
        "file system); let the user running lgs-reports write there, or set [output] dir "
        "(LGS_OUTPUT_DIR) to a folder it can write; the archive is as it was"
    )
    assert err.count("error:") == 1 and "Traceback" not in err
    assert tree(output, locks=True) == archived
    assert snapshot() == warehouse
    code, out, _ = sampled(["archive", "list"])  # reading it still works
    assert code == 0 and BEFORE in out


@duckdb_only
def test_an_output_folder_that_is_a_file(sampled, tmp_path, snapshot):
    output = tmp_path / "output"
    output.write_bytes(b"notes\n")
    warehouse = snapshot()
    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert (code, out) == (EXIT_ARCHIVE, "")
    assert err.splitlines()[-1] == (
        f"error: archive: cannot write {output / '.locks'}: {output} is a file, not a folder; "
        "move it aside or set [output] dir (LGS_OUTPUT_DIR) to a folder; the archive is as it was"
    )
    assert err.count("error:") == 1 and "Traceback" not in err
    assert output.read_bytes() == b"notes\n"
    assert snapshot() == warehouse


@duckdb_only
def test_a_full_disk_at_the_write_seam(sampled, tmp_path, monkeypatch):
    """The same as the tmpfs test, where mounting is not possible: ENOSPC from the write."""
    output = tmp_path / "output"
    assert sampled(["--period", BEFORE, "--no-email"]).code == 0
    archived = tree(output)
    write = disk.write_file

    def full(path: Path, data: bytes) -> None:
        if path.suffix == ".pdf":
            raise OSError(errno.ENOSPC, ENOSPC)
        write(path, data)

    monkeypatch.setattr(disk, "write_file", full)
    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert (code, out) == (EXIT_ARCHIVE, "")
    assert err.splitlines()[-1] == (
        f"error: archive: cannot write {output} ({ENOSPC}); free space, e.g. delete earlier "
        "revision folders; the archive is as it was"
    )
    assert tree(output) == archived and staged(output) == []


# --------------------------------------------------------------------------- the outbox


def outbox_files(output: Path) -> list[str]:
    outbox = output / ".outbox"
    return sorted(p.name for p in outbox.iterdir()) if outbox.is_dir() else []


@duckdb_only
@pytest.mark.parametrize("read_only", [False, True], ids=["full", "read-only"])
def test_archived_but_the_outbox_cannot_be_written_is_exit_7(
    sampled, tmp_path, tmpfs, monkeypatch, read_only
):
    output = tmp_path / "output"
    outbox = tmpfs(output / ".outbox", "4k", read_only=read_only)
    inbox = Inbox()
    port = smtp_on_localhost(monkeypatch, "md@lgs.example")
    with smtp_server(inbox, port):
        code, out, err = sampled(["--period", PERIOD])
    revision = output / PERIOD / "r1"
    cause = "Read-only file system" if read_only else ENOSPC
    assert (code, out) == (EXIT_NOT_QUEUED, "")
    assert err.splitlines()[-1].startswith(
        f"error: email: the {PERIOD} brief (r1) is archived in {revision}, but its email is "
        f"neither sent nor queued: cannot write {outbox}"
    )
    assert f"({cause})" in err.splitlines()[-1]
    assert err.splitlines()[-1].endswith(
        f"; then run `lgs-reports --period {PERIOD}` again: it reuses the archived brief and "
        "sends it"
    )
    assert err.count("error:") == 1 and "Traceback" not in err
    manifest = json.loads((revision / "manifest.json").read_text())
    assert manifest["deliveries"] == [] and inbox.messages == []
    assert outbox_files(output) == []  # no half-written entry

    subprocess.run(["umount", str(outbox)], check=True)  # space again: rerun as the line says
    with smtp_server(inbox, port):
        code, out, err = sampled(["--period", PERIOD])
    assert code == 0, err
    assert "unchanged, reused" in out and inbox.recipients() == ["md@lgs.example"]
    manifest = json.loads((revision / "manifest.json").read_text())
    assert [d["recipient"] for d in manifest["deliveries"]] == ["md@lgs.example"]
    assert outbox_files(output) == []


@duckdb_only
def test_the_outbox_at_the_write_seam(sampled, tmp_path, monkeypatch):
    output = tmp_path / "output"
    write = disk.atomic_write

    def full(path: Path, data: bytes) -> None:
        if path.suffix == ".eml":
            raise OSError(errno.ENOSPC, ENOSPC)
        write(path, data)

    monkeypatch.setattr(disk, "atomic_write", full)
    inbox = Inbox()
    port = smtp_on_localhost(monkeypatch, "md@lgs.example")
    with smtp_server(inbox, port):
        code, out, err = sampled(["--period", PERIOD])
    assert (code, out) == (EXIT_NOT_QUEUED, "")
    assert f"neither sent nor queued: cannot write {output / '.outbox'} ({ENOSPC})" in err
    assert inbox.messages == [] and outbox_files(output) == []
    assert (output / PERIOD / "r1" / "manifest.json").is_file()


@duckdb_only
def test_a_disk_that_refuses_the_intent_sends_nothing(sampled, tmp_path, monkeypatch):
    """The intent is written before DATA: if it cannot be, the message is not handed over."""
    output = tmp_path / "output"
    meta = output / ".outbox" / f"{PERIOD}-r1.json"
    write = disk.atomic_write

    def full_after_queueing(path: Path, data: bytes) -> None:
        if path == meta and path.exists():
            raise OSError(errno.ENOSPC, ENOSPC)
        write(path, data)

    inbox = Inbox()
    port = smtp_on_localhost(monkeypatch, "md@lgs.example")
    with smtp_server(inbox, port):
        with monkeypatch.context() as patch:
            patch.setattr(disk, "atomic_write", full_after_queueing)
            code, out, err = sampled(["--period", PERIOD])
        assert (code, out) == (EXIT_DELIVERY_PENDING, "")
        assert err.splitlines()[-1] == (
            f"error: email: the {PERIOD} brief (r1) is archived but not sent to md@lgs.example: "
            f"cannot write {meta} ({ENOSPC}); free space, e.g. delete earlier revision folders; "
            f"it waits in {meta.with_suffix('.eml')}: then run `lgs-reports deliver`"
        )
        assert inbox.messages == []
        (entry,) = list_outbox(output)
        assert (entry.pending, entry.unconfirmed) == (("md@lgs.example",), {})

        code, out, err = sampled(["deliver"])  # space again
        assert code == 0, err
    assert inbox.recipients() == ["md@lgs.example"] and outbox_files(output) == []


@duckdb_only
def test_sent_but_not_recorded_is_left_unconfirmed_not_sent_twice(sampled, tmp_path, monkeypatch):
    """The server took it, then the disk refused the delivery log: exit 4, and the next
    runs report the recipient as unconfirmed instead of sending it again."""
    output = tmp_path / "output"
    write = disk.atomic_write

    def full(path: Path, data: bytes) -> None:
        if path.name == "manifest.json":
            raise OSError(errno.ENOSPC, ENOSPC)
        write(path, data)

    inbox = Inbox()
    port = smtp_on_localhost(monkeypatch, "md@lgs.example")
    with smtp_server(inbox, port):
        with monkeypatch.context() as patch:
            patch.setattr(disk, "atomic_write", full)
            code, out, err = sampled(["--period", PERIOD])
        assert (code, out) == (EXIT_DELIVERY_PENDING, "")
        assert err.splitlines()[-1] == (
            f"error: email: the server took the {PERIOD} brief (r1) for md@lgs.example, but "
            f"that could not be recorded: cannot write {output / PERIOD / 'r1' / 'manifest.json'}"
            f" ({ENOSPC}); free space, e.g. delete earlier revision folders; md@lgs.example has "
            "it but stays listed as unconfirmed: once fixed, run `lgs-reports deliver` for "
            "anyone still pending, without --resend-unconfirmed (it would send md@lgs.example "
            "a second copy)"
        )
        assert inbox.recipients() == ["md@lgs.example"]
        (entry,) = list_outbox(output)
        assert list(entry.unconfirmed) == ["md@lgs.example"]

        code, out, err = sampled(["deliver"])  # the disk is fine again
        assert (code, out) == (EXIT_DELIVERY_PENDING, "")
        assert "unconfirmed for md@lgs.example" in err.splitlines()[-1]
        assert inbox.recipients() == ["md@lgs.example"]  # not sent twice


# --------------------------------------------------------------------------- SIGTERM


def child(cli_env: dict[str, str], cwd: Path, *argv: str, prelude: str = "") -> subprocess.Popen:
    """``lgs-reports ARGV`` in a child process, after ``prelude`` (a seam for the test)."""
    code = f"import sys\n{prelude}\nfrom lgs_reports.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen, marker: str) -> list[str]:
    """Read the child's stderr until a line holds ``marker``; the lines read."""
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} never came: {''.join(seen)}")


@duckdb_only
def test_sigterm_while_rendering_is_exit_143_and_changes_nothing(
    sampled, tmp_path, cli_env, snapshot, warehouse
):
    output = tmp_path / "output"
    assert sampled(["--period", BEFORE, "--no-email"]).code == 0
    archived = tree(output)
    state = snapshot()
    warehouse.dispose()  # the child needs the DuckDB file to itself
    proc = child(cli_env, tmp_path, "--period", PERIOD, "--no-email")
    wait_for(proc, " draw: ")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out) == (EXIT_TERMINATED, "")
    assert err == "error: stopped by SIGTERM; nothing was left half-written\n"
    assert tree(output) == archived and staged(output) == []
    assert snapshot() == state


HALF_WRITE_THEN_WAIT = """
import time
from lgs_reports import disk
write = disk.write_file
def half_then_wait(path, data):
    if path.suffix == ".pdf":
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        print("half-written", file=sys.stderr, flush=True)
        time.sleep(600)
    write(path, data)
disk.write_file = half_then_wait
"""


@duckdb_only
def test_sigterm_while_archiving_removes_the_half_written_revision(
    sampled, tmp_path, cli_env, warehouse
):
    output = tmp_path / "output"
    assert sampled(["--period", BEFORE, "--no-email"]).code == 0
    archived = tree(output)
    warehouse.dispose()
    proc = child(cli_env, tmp_path, "--period", PERIOD, "--no-email", prelude=HALF_WRITE_THEN_WAIT)
    wait_for(proc, "half-written")
    assert len(staged(output)) == 1  # the revision being written
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out) == (EXIT_TERMINATED, "")
    assert err == "error: stopped by SIGTERM; nothing was left half-written\n"
    assert staged(output) == []  # removed now, not by the next run
    assert tree(output) == archived


# --------------------------------------------------------------------------- delivery cut off


class Holding(Inbox):
    """Takes each message, then holds its answer until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 Message accepted"


def pending_brief(sampled, tmp_path, monkeypatch) -> int:
    """Archive the brief with the SMTP server down: it waits in the outbox; the port."""
    port = smtp_on_localhost(monkeypatch, "md@lgs.example")
    monkeypatch.setenv("LGS_SMTP_RETRIES", "0")
    code, _, err = sampled(["--period", PERIOD])
    assert code == EXIT_DELIVERY_PENDING, err
    return port


@duckdb_only
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_stopped_after_the_server_took_it_is_unconfirmed_and_sent_again_only_when_asked(
    sampled, tmp_path, monkeypatch, cli_env, sig
):
    output = tmp_path / "output"
    port = pending_brief(sampled, tmp_path, monkeypatch)
    env = {**cli_env, **{k: v for k, v in os.environ.items() if k.startswith("LGS_")}}
    inbox = Holding()
    with smtp_server(inbox, port):
        proc = child(env, tmp_path, "deliver")
        try:
            assert inbox.arrived.wait(60), "the message never reached the server"
            proc.send_signal(sig)  # the server has it; the answer is not out yet
            out, err = proc.communicate(timeout=60)
        finally:
            inbox.release.set()
        if sig == signal.SIGTERM:
            assert (proc.returncode, out) == (EXIT_TERMINATED, "")
            assert err.splitlines()[-1] == (
                "error: stopped by SIGTERM; nothing was left half-written"
            )
        else:
            assert proc.returncode == -signal.SIGKILL
        assert inbox.recipients() == ["md@lgs.example"]
        (entry,) = list_outbox(output)
        assert list(entry.unconfirmed) == ["md@lgs.example"]
        manifest = json.loads((output / PERIOD / "r1" / "manifest.json").read_text())
        assert manifest["deliveries"] == []

        inbox.release.set()
        code, out, err = sampled(["deliver"])  # reported, not sent again
        assert (code, out) == (EXIT_DELIVERY_PENDING, "")
        line = err.splitlines()[-1]
        assert line.startswith(
            f"error: email: the {PERIOD} brief (r1) is archived but unconfirmed for "
            "md@lgs.example: a run stopped after handing it to the server ("
        )
        assert line.endswith(
            "before the answer was recorded, so they may have it; it is not sent again on its "
            "own: check with them, then run `lgs-reports deliver --resend-unconfirmed` (same "
            f"Message-ID); it waits in {output / '.outbox' / (PERIOD + '-r1.eml')}"
        )
        assert inbox.recipients() == ["md@lgs.example"]

        code, out, err = sampled(["deliver", "--resend-unconfirmed"])
        assert code == 0, err
        assert out == f"email: sent the {PERIOD} brief (r1) to md@lgs.example\n"
    first, second = inbox.parsed()
    assert first["Message-ID"] == second["Message-ID"]
    assert outbox_files(output) == []
    manifest = json.loads((output / PERIOD / "r1" / "manifest.json").read_text())
    assert [d["recipient"] for d in manifest["deliveries"]] == ["md@lgs.example"]
    assert sampled(["deliver"])[:2] == (0, "deliver: nothing pending\n")
