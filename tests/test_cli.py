"""The command line: every command documented, the default command, status and archive views."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lgs_reports.cli import COMMANDS, build_parser
from tests.pgserver import free_port

REPO_README = Path(__file__).resolve().parents[1] / "README.md"


def subcommand_parsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_command_has_help_with_an_example_and_a_line_in_the_readme():
    choices = subcommand_parsers()
    assert set(choices) == set(COMMANDS)
    readme = REPO_README.read_text()
    for name, parser in choices.items():
        assert parser.description and "Example" in parser.description, name
        # a row of the README's table of commands, not just the word somewhere
        assert re.search(rf"^\| `lgs-reports {name}` \| \w", readme, re.M), name


def test_python_m_and_the_console_script_are_the_same_program():
    script = shutil.which("lgs-reports", path=str(Path(sys.executable).parent))
    assert script, "the lgs-reports console script is not installed beside this Python"
    outputs = [
        subprocess.run(command, capture_output=True, text=True, check=True).stdout
        for command in ([sys.executable, "-m", "lgs_reports", "--help"], [script, "--help"])
    ]
    # argparse names the program after how it was started; the rest is the same program
    assert outputs[0].replace("python -m lgs_reports", "lgs-reports") == outputs[1]
    version = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("lgs-reports ")


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


# --- settings: checked when read, before anything is touched --------------------------------


def untouched(tmp_path) -> bool:
    """Neither the warehouse nor the archive was created."""
    return not (tmp_path / "warehouse.duckdb").exists() and not (tmp_path / "output").exists()


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LGS_LOG_LEVEL", "LOUD", "expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
        ("LGS_SMTP_TIMEOUT", "0", "expected seconds, more than 0, got 0"),
        ("LGS_SMTP_BACKOFF", "-1", "expected seconds, 0 or more, got -1"),
        ("LGS_SMTP_PORT", "70000", "expected a port number from 1 to 65535, got 70000"),
        (
            "LGS_DATABASE_URL",
            "postgresql://lgs:s3cret@127.0.0.1:abc/lgs",
            "the port in 'postgresql://lgs:***@127.0.0.1:abc/lgs' is not a number; expected "
            "postgresql://user:password@host:5432/db (postgres:// too) or "
            "duckdb:///path/to/warehouse.duckdb",
        ),
        (
            "LGS_DATABASE_URL",  # exit 2, not 3: no point retrying it as if the database were down
            "mssql://lgs:s3cret@db.example/lgs",
            "'mssql://lgs:***@db.example/lgs' names a mssql database, which is not supported; "
            "expected postgresql://user:password@host:5432/db (postgres:// too) or "
            "duckdb:///path/to/warehouse.duckdb",
        ),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["--period", "2011", "--no-email"], ["deliver"]])
def test_a_bad_setting_is_one_line_and_exit_2(
    run_cli, monkeypatch, tmp_path, variable, value, message, command
):
    monkeypatch.setenv(variable, value)
    code, out, err = run_cli(command)
    assert (code, out, err) == (2, "", f"error: environment variable {variable}: {message}\n")
    assert untouched(tmp_path)


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_a_bad_setting_in_the_file_names_the_file_and_key(run_cli, tmp_path):
    (tmp_path / "lgs_reports.toml").write_text('[log]\nlevel = "LOUD"\n', encoding="utf-8")
    code, out, err = run_cli(["--period", "2011"])
    assert (code, out) == (2, "")
    assert err == (
        "error: lgs_reports.toml: [log] level: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'\n"
    )
    assert untouched(tmp_path)


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_an_unreachable_warehouse_message_is_not_mangled_by_a_short_password(
    run_cli, monkeypatch, tmp_path
):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("LGS_DATABASE_URL", f"postgresql://u:p@127.0.0.1:{port}/x")
    code, out, err = run_cli(["status"])
    assert (code, out) == (3, "")
    assert err.startswith(
        f"error: warehouse postgresql database 'x' on 127.0.0.1:{port} unavailable: "
        f'connection to server at "127.0.0.1", port {port} failed: '
    )
    assert err.endswith("; check [database] url / LGS_DATABASE_URL\n") and err.count("\n") == 1
    assert "***" not in err  # the password is in no field of the message: nothing to mask
    assert untouched(tmp_path)


@pytest.mark.postgres
@pytest.mark.parametrize("warehouse_url", ["postgresql"], indirect=True)
def test_postgres_urls_reach_postgresql(run_cli, monkeypatch, warehouse_url):
    """The scheme hosting services hand out (Heroku, Render, Supabase...)."""
    assert warehouse_url.startswith("postgresql://")
    monkeypatch.setenv("LGS_DATABASE_URL", "postgres://" + warehouse_url.split("://", 1)[1])
    code, out, err = run_cli(["status"])
    assert code == 0, err
    assert out.startswith("warehouse: postgres://") and "empty" in out


def test_every_exit_code_is_documented_and_every_documented_one_exists():
    import re

    from lgs_reports import errors

    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    operations = REPO_README.parent / "docs" / "operations.md"
    for doc in (REPO_README, operations):
        table = doc.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
        documented = {int(n) for n in re.findall(r"^\| (\d+) \|", table, re.M)}
        assert documented == codes, doc.name
    epilog = build_parser().epilog or ""
    assert {int(n) for n in re.findall(r"(\d+) [a-z]", epilog)} == codes


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"LGS_EMAIL_TO": "md@lgs.example"},
            "environment variable LGS_EMAIL_TO is set but [email] from is not: the brief is "
            "emailed and needs a sender; set [email] from (or LGS_EMAIL_FROM) to an address your "
            "SMTP server may send as, e.g. LGS Reports <reports@example.com>",
        ),
        (
            {"LGS_EMAIL_TO": "md@lgs.example", "LGS_EMAIL_FROM": "lgs-reports@localhost"},
            "environment variable LGS_EMAIL_FROM: 'lgs-reports@localhost' cannot be the sender: "
            "mail servers refuse or drop mail from @localhost; set [email] from (or "
            "LGS_EMAIL_FROM) to an address of your own domain that your SMTP server may send as, "
            "e.g. LGS Reports <reports@example.com>",
        ),
        (
            {"LGS_EMAIL_SUBJECT": "LGS {perod}"},
            "environment variable LGS_EMAIL_SUBJECT: 'LGS {perod}' has an unknown placeholder "
            "{perod}; use {period}, {headline} or {company}, and {{ or }} for a brace",
        ),
        (
            {"LGS_EMAIL_TO": "md@lgs.example", "LGS_EMAIL_FROM": "reports@lgs.example"},
            "email: [email] to is set, but no SMTP server is configured; set [smtp] host or "
            "LGS_SMTP_HOST (or run with --no-email)",
        ),
        (
            {"LGS_SMTP_HOST": "smtp.example.com", "LGS_SMTP_SECURITY": "none"}
            | {"LGS_SMTP_USERNAME": "lgs"},
            "environment variable LGS_SMTP_SECURITY: 'none' would send the SMTP password to "
            "smtp.example.com unencrypted; use starttls (port 587) or tls (port 465); none is "
            "for a relay on this machine (localhost) only",
        ),
    ],
    ids=["no-sender", "localhost-sender", "subject-typo", "no-smtp-host", "clear-password"],
)
def test_bad_email_settings_stop_the_run_before_anything_is_built(
    run_cli, monkeypatch, tmp_path, variables, message
):
    """A typo in the email settings costs a second: exit 2 and one line, before the
    warehouse is opened or anything is archived."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli(["--period", "2011"])
    assert (code, out, err) == (2, "", f"error: {message}\n")
    assert untouched(tmp_path)
