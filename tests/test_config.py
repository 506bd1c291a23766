"""Settings: the file, LGS_* overrides, which file is read, errors that name the file and key,
the example file, and secrets that never show."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

import pytest

from lgs_reports import config
from lgs_reports.config import (
    Settings,
    describe_settings,
    example_toml,
    find_config_file,
    load_settings,
    mask_url,
)
from lgs_reports.errors import EXIT_BAD_INPUT, ConfigError

REPO = Path(__file__).resolve().parents[1]

FILE = """\
[database]
url = "postgresql://lgs@db.example/lgs"

[output]
dir = "/srv/briefs"

[smtp]
host = "mail.example"
port = 465
security = "tls"

[email]
to = ["ceo@example.com"]
from = "reports@example.com"
"""


@pytest.fixture
def warehouse_url(tmp_path) -> str:
    """Settings need no warehouse: one DuckDB URL instead of one run per engine."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


def write(folder: Path, text: str, name: str = "lgs_reports.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_is_read(tmp_path):
    settings = load_settings(write(tmp_path, FILE), env={})
    assert settings.database.url == "postgresql://lgs@db.example/lgs"
    assert settings.output.dir == "/srv/briefs"
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "mail.example",
        465,
        "tls",
    )
    assert settings.email.to == ("ceo@example.com",)
    assert settings.email.sender == "reports@example.com"  # [email] from
    assert settings.smtp.retries == 3  # not in the file: the default
    assert settings.source == str(tmp_path / "lgs_reports.toml")


def test_environment_overrides_the_file(tmp_path):
    env = {
        "LGS_DATABASE_URL": "duckdb:////data/w.duckdb",
        "LGS_OUTPUT_DIR": "/tmp/out",
        "LGS_SMTP_HOST": "127.0.0.1",
        "LGS_SMTP_PORT": "2525",
        "LGS_EMAIL_TO": "a@example.com, b@example.com,,",
        "LGS_EMAIL_FROM": "brief@example.com",
        "LGS_SMTP_TIMEOUT": "2.5",
        "LGS_UNRELATED": "ignored",
    }
    settings = load_settings(write(tmp_path, FILE), env=env)
    assert settings.database.url == "duckdb:////data/w.duckdb"
    assert settings.database_url == "duckdb:////data/w.duckdb"
    assert settings.output.dir == "/tmp/out"
    assert settings.smtp.host == "127.0.0.1"
    assert settings.smtp.port == 2525 and isinstance(settings.smtp.port, int)
    assert settings.smtp.timeout == 2.5
    assert settings.email.to == ("a@example.com", "b@example.com")
    assert settings.email.sender == "brief@example.com"
    assert settings.smtp.security == "tls"  # from the file, not overridden


def test_an_empty_variable_empties_a_list(tmp_path):
    settings = load_settings(write(tmp_path, FILE), env={"LGS_EMAIL_TO": ""})
    assert settings.email.to == ()


def test_no_file_gives_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = load_settings(None, env={})
    assert dataclasses.replace(settings, source="") == dataclasses.replace(Settings(), source="")
    assert settings.source == "defaults"
    assert settings.database_is_default
    embedded = tmp_path / "data" / "lgs-reports" / "warehouse.duckdb"
    assert settings.database_url == f"duckdb:///{embedded}"


def test_which_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = write(tmp_path, '[output]\ndir = "local"\n')
    from_env = write(tmp_path, '[output]\ndir = "env"\n', "env.toml")
    explicit = write(tmp_path, '[output]\ndir = "explicit"\n', "explicit.toml")
    env = {"LGS_CONFIG": str(from_env)}
    assert load_settings(explicit, env=env).output.dir == "explicit"  # --config first
    assert load_settings(None, env=env).output.dir == "env"  # then LGS_CONFIG
    assert load_settings(None, env={}).output.dir == "local"  # then ./lgs_reports.toml
    assert find_config_file(None, {}) == Path("lgs_reports.toml")
    local.unlink()
    assert find_config_file(None, {}) is None


@pytest.mark.parametrize("how", ["--config", "LGS_CONFIG"])
def test_a_named_file_that_is_missing_is_an_error(tmp_path, how):
    missing = tmp_path / "nosuch.toml"
    with pytest.raises(ConfigError) as error:
        if how == "--config":
            load_settings(missing, env={})
        else:
            load_settings(None, env={"LGS_CONFIG": str(missing)})
    assert str(error.value) == f"{missing}: configuration file not found"


def test_unknown_section(tmp_path):
    path = write(tmp_path, FILE + "\n[mail]\nhost = 'x'\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == (
        f"{path}: unknown section [mail]; known sections: database, output, report, actions, "
        "smtp, email, log"
    )
    assert error.value.exit_code == EXIT_BAD_INPUT


def test_unknown_key(tmp_path):
    path = write(tmp_path, FILE.replace('host = "mail.example"', 'hots = "mail.example"'))
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == (
        f"{path}: unknown setting [smtp] hots; known: host, port, security, username, password, "
        "timeout, retries, backoff"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('port = "smtp"', "[smtp] port: expected a whole number, got 'smtp'"),
        ("port = true", "[smtp] port: expected a whole number, got True"),
        ("port = 46.5", "[smtp] port: expected a whole number, got 46.5"),
        ('timeout = "soon"', "[smtp] timeout: expected a number, got 'soon'"),
        ("host = 5", "[smtp] host: expected a string, got 5"),
        # a secret is never repeated, even in an error
        (
            "password = 12345678",
            "[smtp] password: expected a string, got something else (not shown: a secret)",
        ),
    ],
)
def test_wrong_type_in_the_file(tmp_path, line, message):
    key = line.split()[0]
    text = "\n".join(line if s.startswith(f"{key} =") else s for s in FILE.splitlines())
    if f"\n{key} =" not in FILE:
        text = text.replace("[smtp]\n", f"[smtp]\n{line}\n")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == f"{path}: {message}"


def test_wrong_type_in_the_environment(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_settings(None, env={"LGS_SMTP_PORT": "smtp"})
    assert str(error.value) == (
        "environment variable LGS_SMTP_PORT: expected a whole number, got 'smtp'"
    )


def test_a_list_must_be_a_list_of_strings(tmp_path):
    path = write(tmp_path, FILE.replace('to = ["ceo@example.com"]', 'to = ["a@example.com", 5]'))
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == (
        f"{path}: [email] to: expected a list of strings, got ['a@example.com', 5]"
    )


def test_strings_are_read_as_in_variables(tmp_path):
    """A number or a list written as a TOML string is read as its variable would be."""
    text = FILE.replace("port = 465", 'port = "465"').replace(
        'to = ["ceo@example.com"]', 'to = "a@example.com, b@example.com"'
    )
    settings = load_settings(write(tmp_path, text), env={})
    assert settings.smtp.port == 465
    assert settings.email.to == ("a@example.com", "b@example.com")


def test_not_toml(tmp_path):
    path = write(tmp_path, "[database\nurl = 1\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value).startswith(f"{path}: not valid TOML: ")


@pytest.mark.parametrize(
    ("section", "line", "message"),
    [
        (
            "log",
            'level = "LOUD"',
            "[log] level: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'",
        ),
        ("smtp", 'security = "ssl"', "[smtp] security: expected starttls, tls or none, got 'ssl'"),
        ("smtp", "port = 70000", "[smtp] port: expected a port number from 1 to 65535, got 70000"),
        ("smtp", "port = 0", "[smtp] port: expected a port number from 1 to 65535, got 0"),
        ("smtp", "timeout = 0", "[smtp] timeout: expected seconds, more than 0, got 0"),
        ("smtp", "timeout = -2.5", "[smtp] timeout: expected seconds, more than 0, got -2.5"),
        ("smtp", "timeout = nan", "[smtp] timeout: expected seconds, more than 0, got nan"),
        ("smtp", "backoff = -1", "[smtp] backoff: expected seconds, 0 or more, got -1"),
        ("smtp", "retries = -1", "[smtp] retries: expected 0 or more, got -1"),
        (
            "output",
            "lock_timeout = -1",
            "[output] lock_timeout: expected seconds, 0 or more, got -1",
        ),
        ("output", 'dir = " "', "[output] dir: expected a folder, got ' '"),
        (
            "report",
            "rfm_window_days = 10",
            "[report] rfm_window_days: expected at least 30 (days), got 10",
        ),
        ("report", "top_countries = 0", "[report] top_countries: expected 1 or more, got 0"),
        ("report", "action_list_rows = 0", "[report] action_list_rows: expected 1 or more, got 0"),
        ("email", "max_size_mb = 0", "[email] max_size_mb: expected megabytes, more than 0, got 0"),
        (
            "database",
            'duckdb_memory_limit = "80%"',
            "[database] duckdb_memory_limit: expected a size like 128MB, 2GB or 512MiB "
            "(KB, MB, GB, TB, KiB, MiB, GiB or TiB), got '80%'",
        ),
        (
            "report",
            'priority_segments = ["Champions", "VIPs"]',
            "[report] priority_segments: unknown segment 'VIPs'; segments are: "
            + ", ".join(config.SEGMENTS),
        ),
        (
            "email",
            'subject = "Brief\\nBcc: x@example.com"',
            "[email] subject: 'Brief\\nBcc: x@example.com' contains a line break or control "
            "character; give one line of text (use {period}, {headline} or {company}, and {{ or }} "
            "for a brace)",
        ),
        (
            "email",
            'from = "reports"',
            "[email] from: 'reports' is not a valid email address (it needs exactly one @); "
            "give addresses like name@example.com or Jane Doe <name@example.com>",
        ),
    ],
)
def test_values_are_checked_when_read(tmp_path, section, line, message):
    """Each one line: the file and key, the value, what is accepted; exit code 2."""
    path = write(tmp_path, f"[{section}]\n{line}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == f"{path}: {message}"
    assert error.value.exit_code == EXIT_BAD_INPUT


def test_a_checked_value_from_the_environment_names_the_variable(tmp_path):
    path = write(tmp_path, FILE)  # port = 465 in the file: the variable wins, and is named
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={"LGS_SMTP_PORT": "65536"})
    assert str(error.value) == (
        "environment variable LGS_SMTP_PORT: expected a port number from 1 to 65535, got 65536"
    )
    assert load_settings(path, env={"LGS_LOG_LEVEL": "debug"}).log.level == "debug"


URLS = "expected postgresql://user:password@host:5432/db (postgres:// too) or " + (
    "duckdb:///path/to/warehouse.duckdb"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql://u:s3cret@db.example:abc/lgs",
            f"the port in 'postgresql://u:***@db.example:abc/lgs' is not a number; {URLS}",
        ),
        (
            "postgresql://u:s3cret@db.example:99999/lgs",
            f"the port in 'postgresql://u:***@db.example:99999/lgs' is not from 1 to 65535; {URLS}",
        ),
        (
            "mysql://u:s3cret@db.example/lgs",
            "'mysql://u:***@db.example/lgs' names a mysql database, which is not supported; "
            + URLS,
        ),
        ("warehouse.duckdb", f"'warehouse.duckdb' is not a database URL; {URLS}"),
        (
            "postgresql://u:s3c@ret@db.example/lgs",
            "'postgresql://u:***@db.example/lgs' has an '@' in its user name or password; "
            "write it as %40",
        ),
    ],
)
def test_a_database_url_that_cannot_be_a_warehouse(tmp_path, url, message):
    with pytest.raises(ConfigError) as error:
        load_settings(None, env={"LGS_DATABASE_URL": url})
    assert str(error.value) == f"environment variable LGS_DATABASE_URL: {message}"
    assert "s3c" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "drivername"),
    [
        ("postgres://u:p@h/db", "postgresql"),
        ("postgres+psycopg2://u:p@h/db", "postgresql+psycopg2"),
        ("postgresql://u:p@h:5432/db", "postgresql"),
        ("duckdb:////data/w.duckdb", "duckdb"),
    ],
)
def test_postgres_urls_are_postgresql(url, drivername):
    parsed = config.parse_database_url(url)
    assert parsed.drivername == drivername
    assert parsed.password == "p" or parsed.get_backend_name() == "duckdb"


# --- the example file ------------------------------------------------------------------------


def test_the_example_file_is_the_generated_one():
    """Regenerate it with: lgs-reports config --example > lgs_reports.example.toml"""
    assert (REPO / "lgs_reports.example.toml").read_text(encoding="utf-8") == example_toml()


def test_the_example_lists_every_setting_with_its_default(tmp_path):
    parsed = tomllib.loads(example_toml())
    for section, cls in config._sections().items():
        names = {config._toml_key(section, f.name) for f in dataclasses.fields(cls)}
        assert set(parsed[section]) == names, section
    assert set(parsed) == set(config._sections())
    settings = load_settings(write(tmp_path, example_toml()), env={})
    assert dataclasses.replace(settings, source="") == dataclasses.replace(Settings(), source="")


def test_config_example_command_prints_it(run_cli):
    code, out, _ = run_cli(["config", "--example"])
    assert (code, out) == (0, example_toml())


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:s3cret@h/db", "postgresql://u:***@h/db"),
        (
            "postgresql+psycopg2://u:s3cret@h:5432/db?sslmode=require",
            "postgresql+psycopg2://u:***@h:5432/db?sslmode=require",
        ),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("duckdb:////data/warehouse.duckdb", "duckdb:////data/warehouse.duckdb"),
        ("postgresql://u:s3cret@h:port/db", "postgresql://u:***@h:port/db"),  # not a URL
        ("postgresql://u@azure:s3cret@h/db", "postgresql://u@azure:***@h/db"),  # user@server
        ("postgresql://u:s3c@ret@h/db", "postgresql://u:***@h/db"),  # an @ left unencoded
        ("postgresql://u:s3/cret@h/db", "postgresql://u:***@h/db"),  # SQLAlchemy reads it so
        (
            "postgresql://h/db?user=u&password=s3cret&x=1",
            "postgresql://h/db?user=u&password=***&x=1",
        ),
        ("postgresql://u:p@127.0.0.1:9/x", "postgresql://u:***@127.0.0.1:9/x"),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("nonsense", "nonsense"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("text", "secrets", "masked"),
    [
        # the password "p" is not replaced inside words (it was: "***ostgresql ... ***ort 9")
        (
            'connection to server at "127.0.0.1", port 9 failed: postgresql refused',
            ["p"],
            'connection to server at "127.0.0.1", port 9 failed: postgresql refused',
        ),
        ("FATAL: bad password 'p' given", ["p"], "FATAL: bad password '***' given"),
        ("dsn host=h password=s3cret user=u", [], "dsn host=h password=*** user=u"),
        ("dsn password='s3 cret' user=u", [], "dsn password=*** user=u"),
        ("could not use postgresql://u:s3cret@h/db", [], "could not use postgresql://u:***@h/db"),
        ("535 AGxnczpzM2NyZXQ= refused.", ["AGxnczpzM2NyZXQ="], "535 *** refused."),
        ("two words s3 cret here", ["s3 cret"], "two words *** here"),
        ("nothing secret", [""], "nothing secret"),
    ],
)
def test_mask_secrets_by_structure_never_by_substring(text, secrets, masked):
    assert config.mask_secrets(text, secrets) == masked


def test_describe_settings_masks_secrets(tmp_path):
    env = {
        "LGS_DATABASE_URL": "postgresql://u:s3cret@h/db",
        "LGS_SMTP_PASSWORD": "hunter2",
        "LGS_SMTP_USERNAME": "mailer",
    }
    shown = describe_settings(load_settings(write(tmp_path, FILE), env=env))
    assert "s3cret" not in shown and "hunter2" not in shown
    assert 'url = "postgresql://u:***@h/db"' in shown
    assert 'password = "***"' in shown
    assert 'username = "mailer"' in shown
    assert shown.startswith(f"# settings from {tmp_path / 'lgs_reports.toml'}")
    tomllib.loads(shown)  # still TOML


def test_describe_settings_names_the_embedded_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    shown = describe_settings(load_settings(None, env={}))
    assert 'url = ""' in shown
    assert shown.endswith(
        f"# the embedded warehouse: duckdb:///{tmp_path / 'lgs-reports' / 'warehouse.duckdb'}\n"
    )
    assert 'password = ""' in shown  # no password: nothing to mask


def test_config_command_shows_no_secret(run_cli, monkeypatch):
    monkeypatch.setenv("LGS_DATABASE_URL", "postgresql://u:s3cret@h/db")
    monkeypatch.setenv("LGS_SMTP_PASSWORD", "hunter2")
    code, out, err = run_cli(["config"])
    assert code == 0
    assert "s3cret" not in out + err and "hunter2" not in out + err
    assert "postgresql://u:***@h/db" in out


def test_config_command_reports_a_bad_file(run_cli, tmp_path):
    write(tmp_path, "[smtp]\nport = 'x'\n")  # ./lgs_reports.toml, found in the working folder
    code, out, err = run_cli(["config"])
    assert (code, out) == (2, "")
    assert err == "error: lgs_reports.toml: [smtp] port: expected a whole number, got 'x'\n"


def test_run_cli_sees_no_lgs_variable_of_the_caller(run_cli, tmp_path):
    """The fixture itself: the caller's LGS_* are gone, the warehouse is the test's."""
    assert not {k for k in os.environ if k.startswith("LGS_")} - {
        "LGS_DATABASE_URL",
        "LGS_OUTPUT_DIR",
    }
    assert os.environ["LGS_OUTPUT_DIR"] == str(tmp_path / "output")
    assert Path.cwd() == tmp_path


# --- email settings: checked when read, so a typo costs a second, not a run ------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'subject = "LGS brief {perod}"',
            "[email] subject: 'LGS brief {perod}' has an unknown placeholder {perod}; use "
            "{period}, {headline} or {company}, and {{ or }} for a brace",
        ),
        (
            'subject = "LGS brief {period.__class__}"',
            "[email] subject: 'LGS brief {period.__class__}' has an unknown placeholder "
            "{period.__class__}; use {period}, {headline} or {company}, and {{ or }} for a brace",
        ),
        (
            'subject = "LGS brief {period:>20}"',
            "[email] subject: 'LGS brief {period:>20}' has an unknown placeholder "
            "{period:>20}; use {period}, {headline} or {company}, and {{ or }} for a brace",
        ),
        (
            'subject = "LGS brief {period"',
            "[email] subject: 'LGS brief {period' has an unmatched brace; use {period}, "
            "{headline} or {company}, and {{ or }} for a brace",
        ),
        (
            'to = ["md@example.com"]',
            "[email] to is set but [email] from is not: the brief is emailed and needs "
            "a sender; set [email] from (or LGS_EMAIL_FROM) to an address your SMTP server may "
            "send as, e.g. LGS Reports <reports@example.com>",
        ),
        (
            'to = ["md@example.com"]\nfrom = "lgs-reports@localhost"',
            "[email] from: 'lgs-reports@localhost' cannot be the sender: mail servers refuse or "
            "drop mail from @localhost; set [email] from (or LGS_EMAIL_FROM) to an address of "
            "your own domain that your SMTP server may send as, e.g. LGS Reports "
            "<reports@example.com>",
        ),
        (
            'to = ["md@example.com"]\nfrom = "Reports <reports@mail.localhost>"',
            "[email] from: 'Reports <reports@mail.localhost>' cannot be the sender: mail servers "
            "refuse or drop mail from @mail.localhost; set [email] from (or LGS_EMAIL_FROM) to an "
            "address of your own domain that your SMTP server may send as, e.g. LGS Reports "
            "<reports@example.com>",
        ),
    ],
)
def test_email_settings_are_checked_when_read(tmp_path, line, message):
    path = write(tmp_path, f"[email]\n{line}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == f"{path}: {message}"
    assert error.value.exit_code == EXIT_BAD_INPUT


def test_the_sender_is_unset_by_default_and_needed_only_with_recipients(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./lgs_reports.toml
    defaults = load_settings(None, env={}).email
    assert (defaults.sender, defaults.to) == ("", ())
    with pytest.raises(ConfigError) as error:
        load_settings(None, env={"LGS_EMAIL_TO": "md@example.com"})
    assert str(error.value).startswith(
        "environment variable LGS_EMAIL_TO is set but [email] from is not: "
    )
    env = {"LGS_EMAIL_TO": "md@example.com", "LGS_EMAIL_FROM": "LGS <brief@lgs.example>"}
    assert load_settings(None, env=env).email.sender == "LGS <brief@lgs.example>"


def test_a_quoted_name_with_a_comma_is_one_address_in_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {
        "LGS_EMAIL_TO": '"Doe, Jane" <jane@example.com>, cfo@example.com,Zoë <z@example.com>',
        "LGS_EMAIL_FROM": "reports@example.com",
    }
    settings = load_settings(None, env=env)
    assert settings.email.to == (
        '"Doe, Jane" <jane@example.com>',
        "cfo@example.com",
        "Zoë <z@example.com>",
    )
    from lgs_reports.mail import configured_recipients

    assert [(a.display_name, a.addr_spec) for a in configured_recipients(settings)] == [
        ("Doe, Jane", "jane@example.com"),
        ("", "cfo@example.com"),
        ("Zoë", "z@example.com"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "Doe, Jane <jane@example.com>",
            "environment variable LGS_EMAIL_TO: 'Doe, Jane <jane@example.com>' is not a list of "
            "email addresses (addr-spec local part with no domain); give addresses separated by "
            'commas, like md@example.com, "Doe, Jane" <jane@example.com>',
        ),
        (
            "md@example.com\r\nBcc: evil@example.com",
            "environment variable LGS_EMAIL_TO: 'md@example.com\\r\\nBcc: evil@example.com' "
            "contains a line break or control character; give addresses separated by commas",
        ),
    ],
)
def test_a_malformed_address_list_in_the_variable_is_one_line(
    tmp_path, monkeypatch, value, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        load_settings(None, env={"LGS_EMAIL_TO": value, "LGS_EMAIL_FROM": "r@example.com"})
    assert str(error.value) == message


def test_a_password_is_never_sent_unencrypted_to_another_machine(tmp_path):
    base = '[smtp]\nsecurity = "none"\nusername = "lgs"\n'
    path = write(tmp_path, base + 'host = "smtp.example.com"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == (
        f"{path}: [smtp] security: 'none' would send the SMTP password to smtp.example.com "
        "unencrypted; use starttls (port 587) or tls (port 465); none is for a relay on this "
        "machine (localhost) only"
    )
    for host in ("localhost", "127.0.0.1"):  # a relay on this machine: nothing crosses a network
        assert load_settings(write(tmp_path, base + f'host = "{host}"\n'), env={}).smtp.host == host
    no_login = '[smtp]\nsecurity = "none"\nhost = "relay.internal"\n'
    assert load_settings(write(tmp_path, no_login), env={}).smtp.security == "none"
