"""The whole run, as cron runs it: sample warehouse → brief → archive → email.

These tests drive ``lgs-reports`` in-process (``run_cli``) or as a child process
where a real interruption is needed, against real engines, a real SMTP server
on localhost and the real PDF read back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pypdf
import pytest

from lgs_reports.formatting import money_short
from lgs_reports.report import RunInfo
from tests.pgserver import free_port
from tests.test_delivery import Inbox, smtp_server

PERIOD = "2011-11"
HOLD_LOCK = """
import sys, time
from lgs_reports.archive import RevisionStore
with RevisionStore(sys.argv[1]).period_lock(sys.argv[2], timeout=5):
    print("locked", flush=True)
    time.sleep(60)
"""


def revision_dir(tmp_path: Path, period: str, revision: int = 1) -> Path:
    return tmp_path / "output" / period / f"r{revision}"


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_the_brief_is_archived_with_its_figures_and_csvs(sampled, tmp_path):
    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert code == 0, err
    folder = revision_dir(tmp_path, PERIOD)
    pdf = folder / f"lgs-brief-{PERIOD}.pdf"
    figures = json.loads((folder / "figures.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert figures["sample_data"] is True and figures["period"]["label"] == PERIOD
    text = pdf_text(pdf)
    net = next(k for k in figures["kpis"] if k["key"] == "net_sales")["value"]
    assert money_short(net) in text
    assert figures["recommendations"][0]["title"] in text.replace("\n", " ")
    assert "SAMPLE DATA" in text.upper()
    csvs = sorted(p.name for p in (folder / "segments").glob("*.csv"))
    assert len(csvs) == 10 and "champions.csv" in csvs
    assert (folder / "segments" / "action-lists.xlsx").is_file()
    header = (folder / "segments" / "champions.csv").read_text().splitlines()[0]
    assert header == (
        "customer_id,country,first_purchase,last_purchase,recency,frequency,monetary,"
        "previous_monetary,change,days_between_orders,last_order_value,product_1_code,product_1,"
        "product_2_code,product_2,product_3_code,product_3,suggested_code,suggested_product,"
        "suggested_with,suggested_orders,r,f,m,segment,previous_segment,action,do_not_mail"
    )
    import hashlib

    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["fingerprint"]["raw_lines"] == figures["data_quality"]["warehouse"]["raw_lines"]
    assert "email: off" in out


def test_same_data_same_bytes_and_the_archive_reuses_it(sampled, tmp_path):
    assert sampled(["--period", PERIOD, "--no-email"]).code == 0
    first = (revision_dir(tmp_path, PERIOD) / f"lgs-brief-{PERIOD}.pdf").read_bytes()
    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert code == 0, err
    assert "unchanged, reused" in out
    assert not revision_dir(tmp_path, PERIOD, 2).exists()
    assert (revision_dir(tmp_path, PERIOD) / f"lgs-brief-{PERIOD}.pdf").read_bytes() == first


def test_a_run_on_a_later_day_reuses_the_brief(sampled, tmp_path, monkeypatch):
    # a cron retry the next morning: same data, so the same brief, and nobody emailed twice
    assert sampled(["--period", PERIOD, "--no-email"]).code == 0
    today = RunInfo.start.__func__

    def tomorrow(cls, settings, period):
        run = today(cls, settings, period)
        return dataclasses.replace(run, started_at=run.started_at + dt.timedelta(days=1))

    monkeypatch.setattr(RunInfo, "start", classmethod(tomorrow))
    code, out, err = sampled(["--period", PERIOD, "--no-email"])
    assert code == 0, err
    assert "unchanged, reused" in out
    assert not revision_dir(tmp_path, PERIOD, 2).exists()


def test_no_period_makes_the_latest_complete_month(sampled, tmp_path):
    code, _, err = sampled(["--no-email"])
    assert code == 0, err
    assert revision_dir(tmp_path, "2011-11").is_dir()  # the sample ends on 9 Dec 2011


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--period", "2011-13"],
            "error: period '2011-13' is not a period; accepted forms: "
            "2011 (a year), 2011-Q4 (a quarter), 2011-11 (a month)",
        ),
        (
            ["--period", "2005"],
            "error: period 2005 has no transactions: the data covers "
            "1 Dec 2009 to 9 Dec 2011; choose a period inside it",
        ),
        (["--bogus"], "error: unrecognized arguments: --bogus (see lgs-reports --help)"),
    ],
)
def test_bad_periods_and_options_are_one_line_and_exit_2(sampled, tmp_path, argv, message):
    code, _, err = sampled([*argv, "--no-email"])
    assert code == 2
    assert err.strip().splitlines()[-1] == message
    assert "Traceback" not in err
    assert not (tmp_path / "output" / "2005").exists()


def test_first_run_on_nothing_configured_generates_the_sample_loudly(
    run_cli, monkeypatch, tmp_path
):
    monkeypatch.delenv("LGS_DATABASE_URL")
    code, _, err = run_cli(["--period", PERIOD, "--no-email"])
    assert code == 0, err
    assert "SAMPLE DATA" in err
    assert (tmp_path / "lgs-reports" / "warehouse.duckdb").is_file()  # XDG_DATA_HOME=tmp_path


def test_unreachable_warehouse_is_exit_3_without_the_password(run_cli, monkeypatch):
    monkeypatch.setenv("LGS_DATABASE_URL", "postgresql://lgs:s3cret@127.0.0.1:1/lgs")
    code, out, err = run_cli(["--period", PERIOD, "--no-email"])
    assert code == 3
    assert "s3cret" not in err + out
    assert err.strip().startswith("error: warehouse postgresql database 'lgs' on 127.0.0.1:1")


def test_a_second_run_of_the_same_period_waits_then_fails_busy(sampled, tmp_path, monkeypatch):
    monkeypatch.setenv("LGS_OUTPUT_LOCK_TIMEOUT", "0.3")
    holder = subprocess.Popen(  # another run of the same period, in another process
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "output"), PERIOD],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = sampled(["--period", PERIOD, "--no-email"])
    finally:
        holder.kill()
        holder.wait()
    assert code == 5
    assert "another run is building the 2011-11 brief" in err
    assert not (tmp_path / "output" / PERIOD).exists()


def smtp_on_localhost(monkeypatch, to: str) -> int:
    """Email settings for a plain SMTP server on a free local port; that port."""
    port = free_port()
    monkeypatch.setenv("LGS_EMAIL_TO", to)
    monkeypatch.setenv("LGS_EMAIL_FROM", "LGS Reports <reports@lgs.example>")
    monkeypatch.setenv("LGS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LGS_SMTP_PORT", str(port))
    monkeypatch.setenv("LGS_SMTP_SECURITY", "none")
    monkeypatch.setenv("LGS_SMTP_BACKOFF", "0")
    return port


def test_the_brief_is_emailed_once(sampled, tmp_path, monkeypatch):
    inbox = Inbox()
    port = smtp_on_localhost(monkeypatch, "md@lgs.example, marketing@lgs.example")
    monkeypatch.setenv("LGS_EMAIL_ATTACH_LISTS", "true")
    with smtp_server(inbox, port):
        code, _, err = sampled(["--period", PERIOD])
        assert code == 0, err
        again = sampled(["--period", PERIOD])
        assert again.code == 0, again.err
    messages = inbox.parsed()
    assert sorted(inbox.recipients()) == ["marketing@lgs.example", "md@lgs.example"]
    assert len(messages) == 2  # one per recipient, and nothing the second time
    message = messages[0]
    assert message["Subject"].startswith("[SAMPLE DATA] LGS brief Nov 2011: net sales £")
    parts = {p.get_filename(): p.get_payload(decode=True) for p in message.iter_attachments()}
    pdf_name = f"lgs-brief-{PERIOD}.pdf"
    assert parts[pdf_name] == (revision_dir(tmp_path, PERIOD) / pdf_name).read_bytes()
    # the action lists go as the archived workbook (asked for: LGS_EMAIL_ATTACH_LISTS)
    workbook = revision_dir(tmp_path, PERIOD) / "segments" / "action-lists.xlsx"
    assert parts[f"lgs-action-lists-{PERIOD}.xlsx"] == workbook.read_bytes()
    assert len(openpyxl.load_workbook(io.BytesIO(workbook.read_bytes())).sheetnames) == 10
    manifest = json.loads((revision_dir(tmp_path, PERIOD) / "manifest.json").read_text())
    assert sorted(d["recipient"] for d in manifest["deliveries"]) == [
        "marketing@lgs.example",
        "md@lgs.example",
    ]


def test_smtp_down_is_exit_4_and_the_next_run_sends_it(sampled, tmp_path, monkeypatch):
    port = smtp_on_localhost(monkeypatch, "md@lgs.example")
    monkeypatch.setenv("LGS_SMTP_RETRIES", "1")
    code, _, err = sampled(["--period", PERIOD])
    assert code == 4
    assert "archived" in err and "outbox" in err
    assert (revision_dir(tmp_path, PERIOD) / f"lgs-brief-{PERIOD}.pdf").is_file()
    inbox = Inbox()
    with smtp_server(inbox, port):
        code, _, err = sampled(["deliver"])
        assert code == 0, err
        assert sampled(["deliver"]).code == 0
    assert inbox.recipients() == ["md@lgs.example"]


def test_a_run_killed_while_rendering_leaves_the_archive_as_it_was(sampled, tmp_path, cli_env):
    assert sampled(["--period", "2011-10", "--no-email"]).code == 0
    before = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "output").rglob("*"))
    index = (tmp_path / "output" / "index.json").read_bytes()
    child = subprocess.Popen(
        [sys.executable, "-m", "lgs_reports", "--period", PERIOD, "--no-email"],
        cwd=tmp_path,
        env=cli_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 120
    for line in child.stderr:
        seen.append(line)
        if " draw: " in line or " html: " in line or time.monotonic() > deadline:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert any(" draw: " in s or " html: " in s for s in seen), "".join(seen)
    after = sorted(
        str(p.relative_to(tmp_path))
        for p in (tmp_path / "output").rglob("*")
        if ".locks" not in p.parts
    )
    assert [p for p in after if not p.startswith("output/.locks")] == [
        p for p in before if not p.startswith("output/.locks")
    ]
    assert (tmp_path / "output" / "index.json").read_bytes() == index
    assert sampled(["--period", PERIOD, "--no-email"]).code == 0
    assert revision_dir(tmp_path, PERIOD).is_dir()


def test_dry_run_writes_the_message_and_sends_nothing(sampled, tmp_path, monkeypatch):
    monkeypatch.setenv("LGS_EMAIL_TO", "md@lgs.example")
    monkeypatch.setenv("LGS_EMAIL_FROM", "reports@lgs.example")
    code, _, err = sampled(["--period", PERIOD, "--dry-run"])
    assert code == 0, err
    eml = next(revision_dir(tmp_path, PERIOD).glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "md@lgs.example"
