"""The command line: every command documented, the default command, status and archive views."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lgs_reports.cli import COMMANDS, build_parser

REPO_README = __import__("pathlib").Path(__file__).resolve().parents[1] / "README.md"


def subcommand_parsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_command_has_help_with_an_example():
    choices = subcommand_parsers()
    assert set(choices) == set(COMMANDS)
    for name, parser in choices.items():
        assert parser.description and "Example" in parser.description, name
        assert name in REPO_README.read_text(), f"{name} is not in the README"


def test_python_m_and_the_console_script_are_the_same_program():
    out = subprocess.run(
        [sys.executable, "-m", "lgs_reports", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("lgs-reports ")


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_status_and_archive_views(run_cli, tmp_path):
    code, out, err = run_cli(["status"])
    assert code == 0 and "empty" in out
    assert run_cli(["sample"]).code == 0
    code, out, err = run_cli(["status"])
    assert code == 0
    assert "1 Dec 2009 to 9 Dec 2011" in out and "(generated sample data)" in out
    assert run_cli(["archive", "list"]).code == 0
    assert run_cli(["--period", "2011-10", "--no-email"]).code == 0
    code, out, err = run_cli(["archive", "list"])
    assert code == 0 and "2011-10" in out
    code, out, err = run_cli(["archive", "show", "2011-10", "--json"])
    assert code == 0 and '"period": "2011-10"' in out
    code, out, err = run_cli(["archive", "show", "2012-01"])
    assert code == 2 and "2011-10" in err


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_config_masks_secrets(run_cli, monkeypatch):
    monkeypatch.setenv("LGS_SMTP_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("LGS_DATABASE_URL", "postgresql://lgs:s3cret@db.example/lgs")
    code, out, _ = run_cli(["config"])
    assert code == 0
    assert "hunter2-secret" not in out and "s3cret" not in out
    assert 'password = "***"' in out and "postgresql://lgs:***@db.example/lgs" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "x.toml", "-q", "archive", "list"],
        ["archive", "--config", "x.toml", "-q", "list"],
        ["archive", "list", "--config", "x.toml", "-q"],
        ["-q", "--config", "x.toml"],  # the default command
    ],
)
def test_common_options_count_wherever_they_stand(argv):
    from lgs_reports.cli import _with_default_command

    args = build_parser().parse_args(_with_default_command(argv))
    assert (args.config, args.quiet, args.verbose) == ("x.toml", True, False)


def test_common_options_have_defaults_when_not_given():
    args = build_parser().parse_args(["archive", "list"])
    assert (args.config, args.quiet, args.verbose) == (None, False, False)
