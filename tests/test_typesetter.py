"""The PDF is drawn and typeset in a forked process: the same bytes, its errors raised here."""

from __future__ import annotations

import copy
import multiprocessing
import os
import signal

import jinja2
import pytest

from lgs_reports import typesetter
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


def test_closing_stops_a_typesetter_that_was_never_asked():
    forked = typesetter.start(None)
    pid = forked.pid
    forked.close()
    assert multiprocessing.active_children() == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_brief_that_fails_before_the_pdf_leaves_no_typesetter_behind(run_cli):
    assert run_cli(["sample"]).code == 0
    result = run_cli(["--period", "1999", "--no-email"])
    assert result.code == EXIT_BAD_INPUT, result.err
    assert multiprocessing.active_children() == []
