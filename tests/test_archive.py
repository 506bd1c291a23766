"""The archive: atomic revisions, reuse of identical output, per-period locks, the index.

Everything runs on a real file system in ``tmp_path``; crashes and concurrent
runs are real child processes (SIGKILL, flock), synchronised by what they
print, never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html.parser
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import lgs_reports
from lgs_reports.archive import (
    RevisionStore,
    check_file_name,
    format_manifest,
    format_report_list,
)
from lgs_reports.errors import EXIT_BUSY, BadInputError, BusyError

REPO = Path(__file__).resolve().parent.parent
WHEN = dt.datetime(2011, 12, 10, 6, 0, tzinfo=dt.UTC)
FINGERPRINT = {
    "rows": 1067371,
    "last_transaction": "2011-12-09T12:50:00",
    "loads": [{"file": "retail.sql.gz", "sha256": "ab" * 32}],
}


def brief_files(period: str = "2011", pdf: bytes = b"%PDF-1.7 brief") -> dict[str, bytes]:
    return {
        f"lgs-brief-{period}.pdf": pdf,
        "figures.json": json.dumps({"period": {"label": period}}).encode(),
        "segments/champions.csv": b"customer_id,monetary\n12346,77183.60\n",
        "segments/cant_lose.csv": b"customer_id,monetary\n14911,1500.00\n",
    }


def archive(out: Path, period: str = "2011", files: dict[str, bytes] | None = None, **kw):
    return RevisionStore(out).archive(
        period,
        brief_files(period) if files is None else files,
        fingerprint=kw.pop("fingerprint", FINGERPRINT),
        created_at=kw.pop("created_at", WHEN),
        lock_timeout=kw.pop("lock_timeout", 5.0),
    )


def child(code: str, *args: str) -> subprocess.Popen[str]:
    """A Python child process running ``code`` with this checkout importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


# --------------------------------------------------------------------------- writing


def test_archive_writes_files_and_manifest(tmp_path: Path) -> None:
    files = brief_files()
    report = archive(tmp_path, files=files)

    assert (report.period, report.revision, report.reused) == ("2011", 1, False)
    assert report.path == tmp_path / "2011" / "r1"
    for name, data in files.items():
        assert (report.path / name).read_bytes() == data
    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest == report.manifest
    assert manifest["period"] == "2011"
    assert manifest["revision"] == 1
    assert manifest["created_at"] == "2011-12-10T06:00:00+00:00"
    assert manifest["version"] == lgs_reports.__version__
    assert manifest["fingerprint"] == FINGERPRINT
    assert manifest["deliveries"] == []
    assert manifest["files"]["segments/champions.csv"] == {
        "sha256": hashlib.sha256(files["segments/champions.csv"]).hexdigest(),
        "size": len(files["segments/champions.csv"]),
    }
    assert set(manifest["files"]) == set(files)
    assert os.readlink(tmp_path / "2011" / "latest") == "r1"
    assert (tmp_path / "2011" / "latest" / "lgs-brief-2011.pdf").read_bytes() == files[
        "lgs-brief-2011.pdf"
    ]
    assert not list((tmp_path / ".staging").iterdir())


def test_identical_output_reuses_the_revision(tmp_path: Path) -> None:
    first = archive(tmp_path)
    manifest_bytes = (first.path / "manifest.json").read_bytes()

    again = archive(tmp_path, created_at=WHEN + dt.timedelta(days=1))

    assert again.reused
    assert (again.revision, again.path) == (1, first.path)
    assert sorted(p.name for p in (tmp_path / "2011").iterdir()) == ["latest", "r1"]
    assert (first.path / "manifest.json").read_bytes() == manifest_bytes


def test_different_output_makes_a_new_revision_and_keeps_the_old(tmp_path: Path) -> None:
    old_files = brief_files(pdf=b"%PDF old data")
    first = archive(tmp_path, files=old_files)
    second = archive(tmp_path, files=brief_files(pdf=b"%PDF new data"))

    assert (second.revision, second.reused) == (2, False)
    assert second.path == tmp_path / "2011" / "r2"
    for name, data in old_files.items():
        assert (first.path / name).read_bytes() == data
    store = RevisionStore(tmp_path)
    assert store.read_manifest("2011", revision=1)["files"] == first.manifest["files"]
    assert os.readlink(tmp_path / "2011" / "latest") == "r2"
    assert RevisionStore(tmp_path).load("2011").revision == 2
    assert RevisionStore(tmp_path).list()[0].revisions == (1, 2)


def test_a_dropped_file_is_a_difference_too(tmp_path: Path) -> None:
    archive(tmp_path)
    files = brief_files()
    del files["segments/cant_lose.csv"]
    assert archive(tmp_path, files=files).revision == 2


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/etc/passwd",
        "../escape.pdf",
        "segments/../../x",
        "a//b",
        "./a",
        "a\\b",
        "manifest.json",
        ".hidden",
        "segments/.x",
        "bad\nname.pdf",
    ],
)
def test_unsafe_file_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadInputError, match=r"file name .* refused"):
        archive(tmp_path, files={name: b"x"})
    assert not (tmp_path / "2011").exists()


def test_a_name_cannot_be_a_file_and_a_folder(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="both a file and a folder"):
        archive(tmp_path, files={"segments": b"x", "segments/a.csv": b"y"})


@given(st.text(alphabet=st.sampled_from("ab./\\\n .."), max_size=12))
def test_accepted_file_names_stay_inside_the_revision(name: str) -> None:
    try:
        check_file_name(name)
    except BadInputError:
        return
    resolved = os.path.normpath(os.path.join("/archive/2011/r1", name))
    assert resolved.startswith("/archive/2011/r1/")
    assert resolved != "/archive/2011/r1/manifest.json"


@pytest.mark.parametrize("period", ["", "..", "2011/12", ".staging", "a b", "2011\n"])
def test_unsafe_period_labels_are_refused(tmp_path: Path, period: str) -> None:
    with pytest.raises(BadInputError, match="cannot be a period label"):
        archive(tmp_path, period=period, files={"a.pdf": b"x"})


# The child archives a large file but stops half-way through writing it, says
# so, and waits to be killed: a SIGKILL in the middle of a write, by construction.
CRASHING_RUN = r"""
import datetime as dt, sys, time
from pathlib import Path
from lgs_reports import archive, disk

original = disk.write_file

def write_half_then_hang(path, data):
    if path.name == "big.bin":
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
        print("half-written", flush=True)
        time.sleep(120)
    original(path, data)

disk.write_file = write_half_then_hang
files = {"lgs-brief-2011.pdf": b"%PDF new", "big.bin": b"x" * (8 << 20)}
archive.RevisionStore(Path(sys.argv[1])).archive("2011", files, fingerprint={},
                       created_at=dt.datetime(2011, 12, 11), lock_timeout=5)
"""


def test_sigkill_mid_write_leaves_only_complete_revisions(tmp_path: Path) -> None:
    first = archive(tmp_path)
    proc = child(CRASHING_RUN, str(tmp_path))
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.strip() == "half-written", proc.stderr.read() if proc.stderr else ""
        staged = list((tmp_path / ".staging").iterdir())
        assert len(staged) == 1 and staged[0].name.startswith("2011.")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    # Only the complete revision is visible; the half-written one is hidden in staging.
    assert sorted(p.name for p in (tmp_path / "2011").iterdir()) == ["latest", "r1"]
    assert [(r.period, r.revision) for r in RevisionStore(tmp_path).list()] == [("2011", 1)]
    assert RevisionStore(tmp_path).read_manifest("2011") == first.manifest
    index = json.loads((tmp_path / "index.json").read_text())
    assert [(r["period"], r["revision"]) for r in index["reports"]] == [("2011", 1)]
    assert (staged[0] / "big.bin").stat().st_size == 4 << 20

    # The next run cleans the staging area (the dead run's lock is gone) and archives.
    files = {"lgs-brief-2011.pdf": b"%PDF new", "big.bin": b"x" * (8 << 20)}
    second = archive(tmp_path, files=files)
    assert second.revision == 2
    assert not list((tmp_path / ".staging").iterdir())
    assert (second.path / "big.bin").read_bytes() == files["big.bin"]
    assert (first.path / "lgs-brief-2011.pdf").read_bytes() == b"%PDF-1.7 brief"


def test_stale_staging_of_another_period_is_cleaned_unless_in_use(tmp_path: Path) -> None:
    stale = tmp_path / ".staging" / "2010.deadbeef"
    busy = tmp_path / ".staging" / "2011-11.cafebabe"
    stale.mkdir(parents=True)
    busy.mkdir()
    (stale / "half.pdf").write_bytes(b"%PDF half")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread has its own lock descriptor: it really holds it
        with RevisionStore(tmp_path).period_lock("2011-11", 1.0):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        archive(tmp_path)
    finally:
        release.set()
        holder.join()
    assert not stale.exists()
    assert busy.exists()


# --------------------------------------------------------------------------- locks

HOLD_LOCK = r"""
import sys
from lgs_reports.archive import RevisionStore
with RevisionStore(sys.argv[1]).period_lock(sys.argv[2], 5):
    print("locked", flush=True)
    sys.stdin.read()
"""

TRY_LOCK = r"""
import sys
from lgs_reports.archive import RevisionStore
from lgs_reports.errors import BusyError
try:
    with RevisionStore(sys.argv[1]).period_lock(sys.argv[2], 0.2):
        print("acquired")
except BusyError as exc:
    print(exc)
    sys.exit(exc.exit_code)
"""


def test_a_second_run_of_the_same_period_is_busy(tmp_path: Path) -> None:
    holder = child(HOLD_LOCK, str(tmp_path), "2011")
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "locked"
        with pytest.raises(BusyError) as caught, RevisionStore(tmp_path).period_lock("2011", 0.2):
            pass
        lock = tmp_path / ".locks" / "2011.lock"
        assert str(caught.value) == (
            f"another run is building the 2011 brief (lock {lock} held by pid {holder.pid}); "
            "try again later"
        )
        with pytest.raises(BusyError):
            archive(tmp_path, lock_timeout=0.1)
        # A different period is not blocked.
        with RevisionStore(tmp_path).period_lock("2011-11", 0.2):
            pass
        assert archive(tmp_path, period="2011-Q4").revision == 1
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    assert archive(tmp_path).revision == 1  # free again once the holder is gone


def test_busy_is_exit_code_5_in_another_process(tmp_path: Path) -> None:
    with RevisionStore(tmp_path).period_lock("2011", 1.0):
        same = child(TRY_LOCK, str(tmp_path), "2011")
        other = child(TRY_LOCK, str(tmp_path), "2011-11")
        same_out, _ = same.communicate()
        other_out, _ = other.communicate()
    assert same.returncode == EXIT_BUSY
    assert f"held by pid {os.getpid()}" in same_out
    assert other.returncode == 0 and other_out.strip() == "acquired"


def test_the_period_lock_is_reentrant_in_one_thread(tmp_path: Path) -> None:
    store = RevisionStore(tmp_path)
    with store.period_lock("2011", 0.1), store.period_lock("2011", 0.1):
        report = archive(tmp_path, lock_timeout=0.1)
    assert report.revision == 1
    with store.period_lock("2011", 0.1):  # released for real after the outer block
        pass


# --------------------------------------------------------------------------- reading


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links.append((self._href, data))
            self._href = None


def test_index_lists_every_report_and_escapes_names(tmp_path: Path) -> None:
    archive(tmp_path, "2011")
    archive(tmp_path, "2011", files=brief_files(pdf=b"%PDF newer"))
    odd = {'brief <b>&"x".pdf': b"%PDF odd", "figures.json": b"{}"}
    archive(tmp_path, "2011-11", files=odd)

    index = json.loads((tmp_path / "index.json").read_text())
    assert [(r["period"], r["revision"]) for r in index["reports"]] == [("2011", 2), ("2011-11", 1)]
    assert index["reports"][0]["pdf"] == "2011/r2/lgs-brief-2011.pdf"
    assert [v["revision"] for v in index["reports"][0]["revisions"]] == [1, 2]

    page = (tmp_path / "index.html").read_text()
    parser = _Links()
    parser.feed(page)
    assert "b" not in parser.tags  # the file name is text, not markup
    assert ("2011-11/r1/brief%20%3Cb%3E%26%22x%22.pdf", 'brief <b>&"x".pdf') in parser.links
    assert ("2011/r2/lgs-brief-2011.pdf", "lgs-brief-2011.pdf") in parser.links
    assert ("2011/r1/lgs-brief-2011.pdf", "r1") in parser.links
    assert not list(tmp_path.glob(".index.*"))


def test_list_and_format(tmp_path: Path) -> None:
    assert RevisionStore(tmp_path / "missing").list() == []
    assert format_report_list([]) == "no briefs archived yet"
    archive(tmp_path, "2011-11")
    archive(tmp_path, "2011")
    (tmp_path / "notes").mkdir()  # not a period folder with revisions: ignored

    reports = RevisionStore(tmp_path).list()
    assert [r.period for r in reports] == ["2011-11", "2011"]  # newest label first
    assert reports[1].pdf == "lgs-brief-2011.pdf"
    assert reports[1].path == tmp_path / "2011" / "r1"
    text = format_report_list(reports)
    assert text.splitlines()[0].split() == [
        "period",
        "revision",
        "created",
        "delivered",
        "to",
        "pdf",
    ]
    assert str(tmp_path / "2011" / "r1" / "lgs-brief-2011.pdf") in text
    shown = format_manifest(RevisionStore(tmp_path).read_manifest("2011"))
    assert "rows: 1067371" in shown and "segments/champions.csv" in shown


def test_show_unknown_period_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="nothing is archived"):
        RevisionStore(tmp_path).read_manifest("2012")
    archive(tmp_path, "2011")
    archive(tmp_path, "2010")
    with pytest.raises(BadInputError) as caught:
        RevisionStore(tmp_path).read_manifest("2012")
    assert str(caught.value) == (
        f"archive: no brief for 2012 in {tmp_path}; archived periods: 2010, 2011"
    )
    with pytest.raises(BadInputError, match="has no revision 7; revisions: 1"):
        RevisionStore(tmp_path).read_manifest("2011", revision=7)


def test_record_delivery_updates_the_manifest_and_index(tmp_path: Path) -> None:
    report = archive(tmp_path)
    entry = {
        "recipient": "ceo@lgs.example",
        "message_id": "<m1@lgs>",
        "sent_at": "t",
        "revision": 1,
    }
    store = RevisionStore(tmp_path)
    store.record_delivery("2011", report.revision, [entry])
    same_person = {**entry, "recipient": "CEO@lgs.example"}
    store.record_delivery("2011", report.revision, [same_person])

    manifest = RevisionStore(tmp_path).read_manifest("2011")
    assert manifest["deliveries"] == [entry]
    assert manifest["files"] == report.manifest["files"]
    assert not list(report.path.glob(".*"))
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["reports"][0]["delivered_to"] == ["ceo@lgs.example"]
    # The delivery log does not make an identical rerun look different.
    assert archive(tmp_path).reused


def test_latest_pointer_is_repaired_and_never_the_truth(tmp_path: Path) -> None:
    archive(tmp_path)
    archive(tmp_path, files=brief_files(pdf=b"%PDF 2"))
    link = tmp_path / "2011" / "latest"
    link.unlink()
    os.symlink("r1", link)  # as if a run died between the rename and the pointer update
    assert RevisionStore(tmp_path).load("2011").revision == 2
    assert archive(tmp_path, files=brief_files(pdf=b"%PDF 2")).reused
    assert os.readlink(link) == "r2"


def test_module_never_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive(tmp_path)
    RevisionStore(tmp_path).list()
    assert capsys.readouterr() == ("", "")
