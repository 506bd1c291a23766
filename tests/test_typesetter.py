"""The PDF is drawn and typeset in forked processes: the same bytes, their errors raised
here, and none outlives the run."""

from __future__ import annotations

import copy
import dataclasses
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest

from lgs_reports import charts, typesetter
from lgs_reports.errors import EXIT_BAD_INPUT, ConfigError


def test_the_forked_typesetter_makes_the_pdf_the_main_process_makes(figures):
    timings: dict[str, float] = {}
    with typesetter.start(None) as forked:
        assert isinstance(forked, typesetter.Typesetter)
        pdf = forked.typeset(copy.deepcopy(figures), company="LGS", timings=timings)
    here = typesetter.InProcessTypesetter(None).typeset(copy.deepcopy(figures), company="LGS")
    assert pdf.startswith(b"%PDF-") and pdf == here
    # the steps it ran come back for the manifest
    assert set(timings) == {"draw", "html", "layout", "write"}
    assert multiprocessing.active_children() == []


def test_a_bug_in_a_template_is_raised_here_with_the_typesetters_trace(figures, tmp_path):
    (tmp_path / "_cover.html").write_text("{{ brief.no_such_thing.at_all }}", "utf-8")
    with typesetter.start(tmp_path) as forked, pytest.raises(jinja2.UndefinedError) as raised:
        forked.typeset(copy.deepcopy(figures), company="LGS")
    notes = "\n".join(getattr(raised.value, "__notes__", []))
    assert notes.startswith("raised in the typesetting process:\nTraceback")
    assert "_cover.html" in notes


def test_a_users_error_comes_back_as_it_is(figures, tmp_path):
    missing = tmp_path / "no-such-folder"
    with typesetter.start(missing) as forked, pytest.raises(ConfigError) as raised:
        forked.typeset(copy.deepcopy(figures), company="LGS")
    assert str(raised.value) == (
        f"[report] templates_dir: {missing} is not a folder; "
        "create it or leave the setting empty for the built-in templates"
    )
    assert not getattr(raised.value, "__notes__", None)


def test_a_typesetter_that_dies_is_an_error_that_says_how(figures):
    with typesetter.start(None) as forked:
        assert forked.pid is not None
        os.kill(forked.pid, signal.SIGKILL)
        with pytest.raises(typesetter.TypesetterDied) as raised:
            forked.typeset(copy.deepcopy(figures), company="LGS")
    assert str(raised.value) == "the typesetting process ended without a PDF (killed by SIGKILL)"


def every_chart_in(who: str, action, monkeypatch) -> None:
    """Patch every chart to run ``action`` instead when drawn by ``who``, the draftsman or its
    helper (the helper's parent is the draftsman, the draftsman's this process); the other
    draws as usual, slowly, so that ``who`` surely takes a chart. The workers are forked
    with the patch."""
    here = os.getpid()
    for name, chart in list(charts.CHARTS.items()):

        def draw(figures, height, real=chart.draw):
            if (os.getppid() == here) == (who == "draftsman"):
                return action(figures)
            time.sleep(0.2)
            return real(figures, height)

        monkeypatch.setitem(charts.CHARTS, name, dataclasses.replace(chart, draw=draw))


@pytest.mark.parametrize("who", ["draftsman", "helper"])
def test_a_bug_in_a_chart_is_raised_here_with_the_drawing_trace(figures, monkeypatch, who):
    def broken(figures):
        return 1 / 0

    every_chart_in(who, broken, monkeypatch)
    with typesetter.start(None) as forked, pytest.raises(ZeroDivisionError) as raised:
        forked.typeset(copy.deepcopy(figures), company="LGS")
    notes = getattr(raised.value, "__notes__", [])
    assert len(notes) == 1 and notes[0].startswith(
        "raised in the chart-drawing process:\nTraceback"
    )
    assert "in broken" in notes[0]
    assert multiprocessing.active_children() == []


def test_a_draftsman_that_dies_is_an_error_that_says_how(figures):
    with typesetter.start(None) as forked:
        os.kill(forked.draftsman_pid, signal.SIGKILL)
        with pytest.raises(typesetter.TypesetterDied) as raised:
            forked.typeset(copy.deepcopy(figures), company="LGS")
    assert str(raised.value) == (
        "the chart-drawing process ended without the charts (killed by SIGKILL)"
    )
    assert multiprocessing.active_children() == []


def test_a_helper_that_dies_is_an_error_that_says_how(figures, monkeypatch):
    every_chart_in("helper", lambda figures: os.kill(os.getpid(), signal.SIGKILL), monkeypatch)
    with typesetter.start(None) as forked, pytest.raises(typesetter.TypesetterDied) as raised:
        forked.typeset(copy.deepcopy(figures), company="LGS")
    assert str(raised.value) == (
        "the chart-drawing helper ended without its charts (killed by SIGKILL)"
    )
    assert multiprocessing.active_children() == []


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # ended, waiting to be reaped by whoever adopted it


def test_workers_end_when_the_main_process_is_killed_outright():
    # SIGKILL gives the main process no chance to close them: each must see its pipe
    # closed, which it only does if it holds no copy of the main process's end
    script = (
        "import os, signal, time\n"
        "from lgs_reports import typesetter\n"
        "forked = typesetter.start(None)\n"
        "print(forked.pid, forked.draftsman_pid, flush=True)\n"
        "time.sleep(1)\n"  # both are importing, or waiting for the figures
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # not subprocess.run: a worker left behind would hold its output open, and run wait for it
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as run:
        pids = [int(pid) for pid in run.stdout.readline().split()]
        assert run.wait(60) == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    lingering = [pid for pid in pids if not _gone(pid)]
    for pid in lingering:
        os.kill(pid, signal.SIGKILL)
    assert lingering == []


def test_closing_stops_a_typesetter_that_was_never_asked():
    forked = typesetter.start(None)
    pids = forked.pid, forked.draftsman_pid
    forked.close()
    assert multiprocessing.active_children() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_brief_that_fails_before_the_pdf_leaves_no_typesetter_behind(sampled):
    result = sampled(["--period", "1999", "--no-email"])
    assert result.code == EXIT_BAD_INPUT, result.err
    assert multiprocessing.active_children() == []
