"""A load is all or nothing: killed, interrupted or failing half-way, it leaves nothing behind.

The interrupted loads are real child processes (``python -m lgs_reports load``)
stopped by a signal while they are inside the load's transaction. "Inside" is
read from /proc, not guessed with a sleep: the child has the warehouse open (the
DuckDB file, or a socket to PostgreSQL) and the input file open with more than
half of it read, which happens only after the transaction has begun and long
before it commits.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from lgs_reports.errors import LoadError
from lgs_reports.load import load_file
from lgs_reports.load.loader import DUCKDB_ROW_GROUP
from lgs_reports.load.readers import BLOCK_CHARS, PUBLIC_COLUMNS
from tests.conftest import GOOD_LINE, table_rows

BIG_ROWS = 300_000

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fdinfo").is_dir(), reason="needs /proc to see inside the child"
)


def big_csv_text(rows: int) -> str:
    """Lines of the real shape, eight per invoice, every invoice number distinct."""
    first = dt.datetime(2011, 1, 3, 8, 0)
    description = '"PACK OF 12 PINK, ""POLKADOT"" TISSUES"'
    prices = [f"{0.5 + k * 0.25:.2f}" for k in range(40)]
    lines = [",".join(PUBLIC_COLUMNS)]
    for invoice in range((rows + 7) // 8):
        head = f"{600000 + invoice}"
        when = f"{first + dt.timedelta(minutes=invoice):%Y-%m-%d %H:%M:%S}"
        for n in range(invoice * 8, min(rows, invoice * 8 + 8)):
            code = "POST" if n % 8 == 7 else 20000 + n % 5000
            customer = "" if n % 5 == 0 else 12346 + n % 4000
            country = "France" if n % 10 == 0 else "United Kingdom"
            lines.append(
                f"{head},{code},{description},{n % 24 + 1},{when},{prices[n % 40]},"
                f"{customer},{country}"
            )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    path.write_text(big_csv_text(BIG_ROWS), encoding="utf-8")
    # several parse blocks, and more than one DuckDB row group written before the end
    assert path.stat().st_size > 4 * BLOCK_CHARS and BIG_ROWS > 2 * DUCKDB_ROW_GROUP
    return path


@pytest.fixture(scope="module")
def big_csv_bad_at_the_end(big_csv: Path) -> Path:
    path = big_csv.with_name("big_bad_end.csv")
    data = big_csv.read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    bad = last.replace(b"2011-", b"2O11-", 1)  # a letter O in the year of the last line
    path.write_bytes(data + bad + b"\n")
    return path


@pytest.fixture
def preloaded(warehouse, inputs, snapshot, tmp_path) -> dict:
    """A warehouse holding one small file; its snapshot."""
    good = inputs.csv(
        "good.csv",
        [GOOD_LINE] * 3,
    )
    load_file(warehouse, good, rejects_dir=tmp_path)
    state = snapshot()
    warehouse.dispose()  # a DuckDB file is locked while this process holds it open
    return state


def _open_files(pid: int) -> dict[str, int]:
    """What the process has open: target -> descriptor."""
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[os.readlink(f"/proc/{pid}/fd/{fd}")] = int(fd)
        except OSError:
            continue
    return found


def _position(pid: int, fd: int) -> int:
    info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
    match = re.search(r"^pos:\s+(\d+)", info, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _inside_the_load(pid: int, big: Path, warehouse_url: str) -> bool:
    """The child holds the warehouse and has read more than half of the input file."""
    url = make_url(warehouse_url)
    try:
        files = _open_files(pid)
        if str(big) not in files:
            return False
        if url.get_backend_name() == "duckdb":
            holds_warehouse = str(Path(url.database).resolve()) in files
        else:
            holds_warehouse = any(target.startswith("socket:") for target in files)
        return holds_warehouse and _position(pid, files[str(big)]) > big.stat().st_size // 2
    except (FileNotFoundError, ProcessLookupError):
        return False


def interrupt_load(big: Path, warehouse_url: str, env: dict, cwd: Path, signum: int):
    """Start ``lgs-reports load BIG`` as a terminal would and send it ``signum`` inside the
    load's transaction.

    A shell without job control starts a background job with SIGINT ignored, and an
    ignored signal stays ignored across exec: a suite run that way would start a load
    that rightly ignores Ctrl-C. The load is started with SIGINT handled here, so that
    its Python starts with Ctrl-C at its default, as from a terminal.
    """
    out, err = cwd / "child.out", cwd / "child.err"
    handled = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with out.open("w") as stdout, err.open("w") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "lgs_reports", "load", str(big)],
                env=env,
                cwd=cwd,
                stdout=stdout,
                stderr=stderr,
            )
    finally:
        signal.signal(signal.SIGINT, handled)
    try:
        deadline = time.monotonic() + 60
        while not _inside_the_load(child.pid, big, warehouse_url):
            if child.poll() is not None:
                pytest.fail(
                    f"the load ended (exit {child.returncode}) before it could be "
                    f"interrupted: {err.read_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail("the load did not reach the middle of the file within 60 s")
            time.sleep(0.002)
        child.send_signal(signum)
        code = child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return code, out.read_text(), err.read_text()


def test_a_killed_load_leaves_nothing_behind(
    big_csv, warehouse_url, cli_env, tmp_path, run_cli, snapshot, preloaded, warehouse
):
    code, out, _ = interrupt_load(big_csv, warehouse_url, cli_env, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL and out == ""
    assert snapshot() == preloaded

    code, out, err = run_cli(["load", big_csv])
    assert code == 0, err
    assert out.startswith(f"big.csv: loaded {BIG_ROWS:,} lines as load #2")
    assert table_rows(warehouse, "SELECT count(*) FROM retail") == [(BIG_ROWS + 3,)]
    assert table_rows(warehouse, "SELECT count(*) FROM invoices") == [(BIG_ROWS // 8 + 1,)]


def test_ctrl_c_during_a_load_leaves_nothing_behind(
    big_csv, warehouse_url, cli_env, tmp_path, snapshot, preloaded
):
    scratch = tmp_path / "scratch"  # where DuckDB loads stage their rows
    scratch.mkdir()
    env = {**cli_env, "TMPDIR": str(scratch)}
    code, out, err = interrupt_load(big_csv, warehouse_url, env, tmp_path, signal.SIGINT)
    assert code == 130 and out == ""
    assert err.splitlines()[-1] == "error: interrupted; nothing was left half-written"
    assert "Traceback" not in err
    assert snapshot() == preloaded
    assert list(scratch.iterdir()) == []


def test_a_bad_row_in_the_last_block_loads_nothing(
    big_csv_bad_at_the_end, warehouse, tmp_path, snapshot, preloaded, monkeypatch
):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(LoadError) as failure:
        load_file(warehouse, big_csv_bad_at_the_end, rejects_dir=tmp_path)
    assert str(failure.value).startswith(
        f"{big_csv_bad_at_the_end} line {BIG_ROWS + 2}, column 5 (invoice_date): '2O11-"
    )
    assert snapshot() == preloaded
    assert list(scratch.iterdir()) == []  # two row groups were staged, and are gone


def test_a_scratch_folder_with_a_quote_in_its_name_works(warehouse, inputs, tmp_path, monkeypatch):
    scratch = tmp_path / "it's scratch"  # TMPDIR is the user's; DuckDB stages there
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = load_file(warehouse, inputs.csv("one.csv", [GOOD_LINE]))
    assert result.rows_loaded == 1
    assert table_rows(warehouse, "SELECT invoice_no FROM retail") == [(GOOD_LINE[0],)]
    assert list(scratch.iterdir()) == []
