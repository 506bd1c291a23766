"""Settings: one TOML file, every key overridable by an ``LGS_SECTION_KEY`` variable.

The file is ``--config``, else ``$LGS_CONFIG``, else ``lgs_reports.toml`` in the
working directory if present, else none (all defaults). ``[database] url`` is
overridden by ``LGS_DATABASE_URL``, ``[smtp] host`` by ``LGS_SMTP_HOST`` and so
on; lists are comma-separated in variables. ``lgs_reports.example.toml`` lists
every setting with its default. Every value is checked as it is read: a
wrong one is a `ConfigError` (exit 2) naming the file and key or the variable,
the value (never a secret: a URL's password is masked) and what is accepted.
Secrets never leave this module unmasked: use `mask_url`, `mask_secrets` and
`describe_settings` for anything shown to a person.
"""

from __future__ import annotations

import dataclasses
import email.errors
import email.policy
import email.utils
import math
import os
import re
import string
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from email.headerregistry import Address
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from lgs_reports.errors import ConfigError
from lgs_reports.segment_names import SEGMENTS, segment

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def default_warehouse_path() -> Path:
    """Where the embedded DuckDB warehouse lives when no URL is configured."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lgs-reports" / "warehouse.duckdb"


@dataclasses.dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""  # empty: the embedded DuckDB warehouse (see default_warehouse_path)
    # DuckDB's memory cap: it spills to disk beyond it; raise it for warehouses of 10M+ lines
    duckdb_memory_limit: str = "128MB"


@dataclasses.dataclass(frozen=True)
class OutputSettings:
    dir: str = "output"
    lock_timeout: float = 30.0  # seconds a run waits for another run of the same period


@dataclasses.dataclass(frozen=True)
class ReportSettings:
    rfm_window_days: int = 365
    top_countries: int = 10
    action_list_rows: int = 10
    # a suggested next product needs at least this many invoices of the last 365 days that
    # hold it together with one of the customer's products
    suggestion_min_support: int = 3
    priority_segments: tuple[str, ...] = (
        "Champions",
        "Loyal Customers",
        "Can't Lose",
        "At Risk",
        "New Customers",
        "Need Attention",
    )
    templates_dir: str = ""  # a folder whose templates override the built-in ones
    company: str = "London Gift Shop"


@dataclasses.dataclass(frozen=True)
class ActionSettings:  # one field per segment key (segment_names), in its order
    champions: str = "Reward them: early access to new ranges, loyalty pricing, ask for referrals."
    loyal_customers: str = "Upsell higher-value ranges; invite to the loyalty programme."
    potential_loyalists: str = "Offer a membership or volume tier; recommend related products."
    new_customers: str = "Onboarding sequence and a second-order incentive within 30 days."
    promising: str = "Build the relationship: welcome call, free-shipping threshold offer."
    need_attention: str = "Limited-time offer based on past purchases before they slip."
    about_to_sleep: str = "Share popular new lines and a reactivation discount."
    at_risk: str = "Personalised reactivation offer and a service check-in."
    cant_lose: str = "Personal win-back offer and a call from the account manager."
    hibernating: str = "Low-cost discount campaign; otherwise do not spend on them."


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls, tls or none
    username: str = ""
    password: str = ""  # best given as LGS_SMTP_PASSWORD
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0  # seconds before the first retry; doubles each time


@dataclasses.dataclass(frozen=True)
class EmailSettings:
    to: tuple[str, ...] = ()
    # the sender, an address the SMTP server may send as; must be set when [email] to is
    sender: str = ""
    subject: str = "LGS brief {period}: {headline}"  # placeholders: SUBJECT_FIELDS
    max_size_mb: float = 10.0  # above it, attachments stay in the archive and the body says where
    attach_lists: bool = False  # the customer action lists: customer-level data, off by default


@dataclasses.dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"


# TOML spells ``[email] from``; ``from`` is a Python keyword.
_KEY_ALIASES = {("email", "from"): "sender"}


@dataclasses.dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = DatabaseSettings()
    output: OutputSettings = OutputSettings()
    report: ReportSettings = ReportSettings()
    actions: ActionSettings = ActionSettings()
    smtp: SmtpSettings = SmtpSettings()
    email: EmailSettings = EmailSettings()
    log: LogSettings = LogSettings()
    source: str = "defaults"  # where the settings came from, for logs

    @property
    def database_url(self) -> str:
        return self.database.url or f"duckdb:///{default_warehouse_path()}"

    @property
    def database_is_default(self) -> bool:
        """True when nothing configures the warehouse: the embedded default is used."""
        return not self.database.url

    def segment_action(self, name: str) -> str:
        return getattr(self.actions, segment(name).key)


def _sections() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings) if f.name != "source"}


def _toml_key(section: str, field: str) -> str:
    for (sec, key), attr in _KEY_ALIASES.items():
        if sec == section and attr == field:
            return key
    return field


def _convert(value: Any, kind: Any, where: str, *, secret: bool = False) -> Any:
    """Convert a TOML value or an environment string to the field's type."""
    from_env = isinstance(value, str)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if from_env and value.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if from_env and value.strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool | float):  # int(46.5) would quietly give 46
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == tuple[str, ...]:
            if from_env:
                return tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise ValueError
        if not isinstance(value, str):
            raise ValueError
        return value
    except ValueError:
        name = {int: "a whole number", float: "a number", bool: "true or false"}.get(
            kind, "a list of strings" if kind == tuple[str, ...] else "a string"
        )
        got = "something else (not shown: a secret)" if secret else repr(value)
        raise ConfigError(f"{where}: expected {name}, got {got}") from None


def find_config_file(
    explicit: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> Path | None:
    """The configuration file to read, by the documented order, or None."""
    if explicit:
        return Path(explicit)
    if env.get("LGS_CONFIG"):
        return Path(env["LGS_CONFIG"])
    local = Path("lgs_reports.toml")
    return local if local.is_file() else None


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings file (if any), then apply ``LGS_*`` environment overrides."""
    env = os.environ if env is None else env
    file = find_config_file(path, env)
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: configuration file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read the configuration file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    where_file = str(file) if file else "settings"
    origins: dict[tuple[str, str], str] = {}  # where each value was set, for errors
    sections = _sections()
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ConfigError(
            f"{where_file}: unknown section [{unknown[0]}]; known sections: {', '.join(sections)}"
        )
    built: dict[str, Any] = {}
    for section, cls in sections.items():
        raw = data.get(section, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{where_file}: [{section}] must be a table of settings")
        hints = get_type_hints(cls)
        fields = {_toml_key(section, f.name): f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(raw) - set(fields))
        if bad:
            raise ConfigError(
                f"{where_file}: unknown setting [{section}] {bad[0]}; known: {', '.join(fields)}"
            )
        values: dict[str, Any] = {}
        for key, attr in fields.items():
            secret = (section, attr) in SECRETS
            if key in raw:
                where = f"{where_file}: [{section}] {key}"
                values[attr] = _convert(raw[key], hints[attr], where, secret=secret)
                origins[section, attr] = where
            var = f"LGS_{section}_{key}".upper()
            if var in env:
                where = f"environment variable {var}"
                if (section, attr) in ADDRESS_LISTS:
                    values[attr] = split_addresses(env[var], where)
                else:
                    values[attr] = _convert(env[var], hints[attr], where, secret=secret)
                origins[section, attr] = where
        built[section] = cls(**values)
    settings = Settings(**built, source=str(file) if file else "defaults")
    _validate(settings, origins)
    return settings


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SMTP_SECURITY = ("starttls", "tls", "none")
# DuckDB's memory_limit: a number and a unit (percentages and "none" would lift the cap)
_MEMORY_RE = re.compile(r"\s*\d+(\.\d+)?\s*([KMGT]i?B)\s*", re.IGNORECASE)


def _at_least(low: float) -> Callable[[float], bool]:
    return lambda v: math.isfinite(v) and v >= low


def _above(low: float) -> Callable[[float], bool]:
    return lambda v: math.isfinite(v) and v > low


#: (section, field) -> (test of the value, what is accepted); the defaults pass them all.
CHECKS: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("database", "duckdb_memory_limit"): (
        lambda v: bool(_MEMORY_RE.fullmatch(v)),
        "a size like 128MB, 2GB or 512MiB (KB, MB, GB, TB, KiB, MiB, GiB or TiB)",
    ),
    ("output", "dir"): (lambda v: bool(v.strip()), "a folder"),
    ("output", "lock_timeout"): (_at_least(0), "seconds, 0 or more"),
    ("report", "rfm_window_days"): (_at_least(30), "at least 30 (days)"),
    ("report", "top_countries"): (_at_least(1), "1 or more"),
    ("report", "action_list_rows"): (_at_least(1), "1 or more"),
    ("report", "suggestion_min_support"): (_at_least(1), "1 or more (invoices)"),
    ("smtp", "port"): (lambda v: 1 <= v <= 65535, "a port number from 1 to 65535"),
    ("smtp", "security"): (lambda v: v in SMTP_SECURITY, "starttls, tls or none"),
    ("smtp", "timeout"): (_above(0), "seconds, more than 0"),
    ("smtp", "retries"): (_at_least(0), "0 or more"),
    ("smtp", "backoff"): (_at_least(0), "seconds, 0 or more"),
    ("email", "max_size_mb"): (_above(0), "megabytes, more than 0"),
    ("log", "level"): (lambda v: v.upper() in LOG_LEVELS, "DEBUG, INFO, WARNING or ERROR"),
}


def _validate(settings: Settings, origins: Mapping[tuple[str, str], str]) -> None:
    """Every value that `_convert` typed is also one the program can use, or ConfigError."""

    def where(section: str, attr: str) -> str:
        return origins.get((section, attr)) or f"[{section}] {_toml_key(section, attr)}"

    for (section, attr), (test, accepted) in CHECKS.items():
        value = getattr(getattr(settings, section), attr)
        if not test(value):
            shown = f"{value:g}" if isinstance(value, float) else repr(value)
            raise ConfigError(f"{where(section, attr)}: expected {accepted}, got {shown}")
    unknown = [s for s in settings.report.priority_segments if s not in SEGMENTS]
    if unknown:
        raise ConfigError(
            f"{where('report', 'priority_segments')}: unknown segment {unknown[0]!r}; "
            f"segments are: {', '.join(SEGMENTS)}"
        )
    if settings.database.url:
        parse_database_url(settings.database.url, where("database", "url"))
    for raw in settings.email.to:
        validate_address(raw, where("email", "to"))
    if settings.email.to:
        check_sender(settings.email.sender, where("email", "sender"), where("email", "to"))
    elif settings.email.sender:  # email is off: the sender need only be an address
        validate_address(settings.email.sender, where("email", "sender"))
    check_subject(settings.email.subject, where("email", "subject"))
    _check_security(settings.smtp, where("smtp", "security"))


# --------------------------------------------------------------------------- the warehouse URL

DATABASE_URLS = (
    "postgresql://user:password@host:5432/db (postgres:// too) "
    "or duckdb:///path/to/warehouse.duckdb"
)
_URL_SCHEME_RE = re.compile(r"(?P<scheme>[\w+.-]+)://(?P<rest>.*)", re.DOTALL)


def parse_database_url(url: str, where: str = "[database] url") -> URL:
    """The warehouse URL as SQLAlchemy reads it, ``postgres://`` read as ``postgresql://``.

    A URL that cannot name a warehouse (not a URL, another database, a port that
    is not a number from 1 to 65535, an ``@`` left unencoded in a password) is a
    ConfigError (exit 2) naming ``where`` and the URL with its password masked.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{where}: {shown!r} is not a database URL; expected {DATABASE_URLS}"
        ) from None
    except ValueError:  # make_url's int() of the port
        raise ConfigError(
            f"{where}: the port in {shown!r} is not a number; expected {DATABASE_URLS}"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgres":  # what many hosting services hand out; SQLAlchemy 2 refuses it
        parsed = parsed.set(drivername="postgresql" + parsed.drivername[len("postgres") :])
        backend = "postgresql"
    if backend not in ("postgresql", "duckdb"):
        raise ConfigError(
            f"{where}: {shown!r} names a {backend} database, which is not supported; "
            f"expected {DATABASE_URLS}"
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ConfigError(
            f"{where}: the port in {shown!r} is not from 1 to 65535; expected {DATABASE_URLS}"
        )
    if parsed.host and "@" in parsed.host:
        raise ConfigError(
            f"{where}: {shown!r} has an '@' in its user name or password; write it as %40"
        )
    return parsed


def mask_url(url: str) -> str:
    """A database URL with its password field replaced by ``***``, safe to print.

    The password is the field SQLAlchemy reads as one (after ``user:``, up to the
    ``@`` before the host; to the last ``@``, so that an unencoded ``@`` in it
    hides more rather than less) and a ``password=`` query parameter. Everything
    else is left exactly as written, so the message names what the user wrote.
    """
    match = _URL_SCHEME_RE.fullmatch(url)
    if not match:
        return url
    rest = match.group("rest")
    # the user name runs to the first ":" or "/" (it may hold an "@": user@server on Azure)
    user_end = next((i for i, c in enumerate(rest) if c in ":/"), len(rest))
    if rest[user_end : user_end + 1] == ":" and "@" in rest[user_end:]:
        rest = rest[: user_end + 1] + "***" + rest[rest.rindex("@") :]
    rest = re.sub(r"([?&]password=)[^&#]*", r"\1***", rest, flags=re.IGNORECASE)
    return f"{match.group('scheme')}://{rest}"


_KEYWORD_SECRET_RE = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'\",;)]+)", re.I)
_URL_PASSWORD_RE = re.compile(r"([\w+.-]+://[^\s:/]*:)[^\s@]*@")
_WORD_EDGE = "\\s\"'`()\\[\\]<>{},;"


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Text (a driver's or server's message) with every secret in it replaced by ``***``.

    By structure, never by substring: a URL's password field, the value of a
    ``password=`` (a libpq connection string), and a whole word that is one of
    ``secrets`` (a password "p" leaves "postgresql" and "port" alone).
    """
    text = _URL_PASSWORD_RE.sub(r"\1***@", text)
    text = _KEYWORD_SECRET_RE.sub(r"\1***", text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        word = re.escape(secret)
        text = re.sub(rf"(?<![^{_WORD_EDGE}]){word}(?![^{_WORD_EDGE}.:!?])", "***", text)
    return text


# --------------------------------------------------------------------------- email addresses

_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_RE = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_ADDRESS_RE = re.compile(
    r'(?:(?:"(?P<quoted>[^"\\]*)"|(?P<name>[^"<>@,;:()\\\[\]]+))?\s*<(?P<addr>[^<>\s]+)>)'
    r"|(?P<bare>[^<>\s\"(),;:]+)"
)


def validate_address(raw: str, where: str) -> Address:
    """One email address from the settings, strictly checked, or ConfigError naming it.

    Accepts exactly ``name@example.com``, ``<name@example.com>``,
    ``Jane Doe <name@example.com>`` and ``"Doe, Jane" <name@example.com>``.
    Refuses anything that could add a header or a second recipient (line
    breaks, control characters, text after the address, several ``@``) and
    non-ASCII addresses (display names may be non-ASCII).
    """

    def refuse(why: str) -> ConfigError:
        return ConfigError(
            f"{where}: {raw!r} is not a valid email address ({why}); "
            "give addresses like name@example.com or Jane Doe <name@example.com>"
        )

    if not isinstance(raw, str) or not raw.strip():
        raise refuse("it is empty")
    if breaks_line(raw):
        raise refuse("it contains a line break or control character")
    match = _ADDRESS_RE.fullmatch(raw.strip())
    if not match:
        raise refuse("expected one address, optionally with a name before it in <>")
    name = match.group("quoted") if match.group("quoted") is not None else match.group("name")
    name = (name or "").strip()
    addr = match.group("addr") or match.group("bare")
    if not addr.isascii():
        raise refuse("non-ASCII addresses are not supported")
    if addr.count("@") != 1:
        raise refuse("it needs exactly one @")
    local, domain = addr.split("@")
    if not _LOCAL_RE.fullmatch(local) or len(local) > 64:
        raise refuse("the part before @ is malformed")
    if not _DOMAIN_RE.fullmatch(domain):
        raise refuse("the domain is malformed")
    if email.utils.parseaddr(raw)[1] != addr:  # belt and braces: the stdlib must agree
        raise refuse("it is ambiguous")
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise refuse(str(exc)) from None


def breaks_line(text: str) -> bool:
    """True if text holds a line break or control character of any kind (CR, LF, NEL, U+2028...)."""
    return any(unicodedata.category(c) in {"Cc", "Zl", "Zp"} for c in text)


#: The placeholders of ``[email] subject``, each replaced by what it says.
SUBJECT_FIELDS: dict[str, str] = {
    "period": "the period, e.g. Nov 2011, Q4 2011 or 2011 (to 9 Dec) when partial",
    "headline": "net sales and their change, e.g. net sales £1.46m, +2.8% on Nov 2010",
    "company": "[report] company",
}
_SUBJECT_HELP = "use {period}, {headline} or {company}, and {{ or }} for a brace"


def check_subject(subject: str, where: str = "[email] subject") -> str:
    """The subject template, if it is one line (it becomes a header) whose only
    placeholders are `SUBJECT_FIELDS`, each written plainly as ``{name}``, else ConfigError.

    Plain names only: ``str.format`` would otherwise reach attributes
    (``{period.__class__}``) or apply format specs the subject does not need.
    """
    if breaks_line(subject):
        raise ConfigError(
            f"{where}: {subject!r} contains a line break or control character; "
            f"give one line of text ({_SUBJECT_HELP})"
        )
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(subject)
            if name is not None
        ]
    except ValueError:
        raise ConfigError(f"{where}: {subject!r} has an unmatched brace; {_SUBJECT_HELP}") from None
    for name, spec, conversion in fields:
        if name not in SUBJECT_FIELDS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ConfigError(
                f"{where}: {subject!r} has an unknown placeholder {shown}; {_SUBJECT_HELP}"
            )
    return subject


def check_sender(raw: str, where_from: str, where_to: str) -> Address:
    """``[email] from`` when email is on (``[email] to`` is set, named by ``where_to``):
    set, valid, and a sender mail servers take, else ConfigError.

    Empty means "not configured": there is no default sender, since any default
    (``lgs-reports@localhost`` once) is refused or dropped by real mail servers.
    """
    example = "e.g. LGS Reports <reports@example.com>"
    if not raw.strip():
        raise ConfigError(
            f"{where_to} is set but [email] from is not: the brief is emailed and needs a "
            f"sender; set [email] from (or LGS_EMAIL_FROM) to an address your SMTP server may "
            f"send as, {example}"
        )
    address = validate_address(raw, where_from)
    domain = address.domain.lower()
    if domain in LOCAL_DOMAINS or domain.endswith(".localhost"):
        raise ConfigError(
            f"{where_from}: {raw!r} cannot be the sender: mail servers refuse or drop mail "
            f"from @{address.domain}; set [email] from (or LGS_EMAIL_FROM) to an address of "
            f"your own domain that your SMTP server may send as, {example}"
        )
    return address


#: Domains that name this machine: no mail server elsewhere takes mail from them.
LOCAL_DOMAINS = frozenset({"localhost", "localhost.localdomain", "localdomain"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _check_security(smtp: SmtpSettings, where: str) -> None:
    """``[smtp] security = "none"`` with a login sends the password in clear text: only to
    a relay on this machine."""
    host = smtp.host.strip().lower()
    if smtp.security == "none" and smtp.username and host and host not in _LOOPBACK_HOSTS:
        raise ConfigError(
            f"{where}: 'none' would send the SMTP password to {smtp.host} unencrypted; use "
            "starttls (port 587) or tls (port 465); none is for a relay on this machine "
            "(localhost) only"
        )


#: Settings that list email addresses: in a variable they are split as an address list
#: (RFC 5322), so that a comma inside a quoted name does not split an address.
ADDRESS_LISTS = {("email", "to")}


def split_addresses(text: str, where: str) -> tuple[str, ...]:
    """A comma-separated list of addresses, read by the standard library's address-list
    parser: ``"Doe, Jane" <jane@example.com>, cfo@example.com`` is two addresses, not three.

    Each comes back as one address string (``"Doe, Jane" <jane@example.com>``), which
    `validate_address` then checks strictly; a list the parser finds malformed is a
    ConfigError naming ``where``.
    """
    if breaks_line(text):
        raise ConfigError(
            f"{where}: {text!r} contains a line break or control character; give addresses "
            "separated by commas"
        )
    header = email.policy.default.header_factory("To", text)
    defects = [d for d in header.defects if isinstance(d, email.errors.InvalidHeaderDefect)]
    if defects:
        raise ConfigError(
            f"{where}: {text!r} is not a list of email addresses ({defects[0]}); give addresses "
            'separated by commas, like md@example.com, "Doe, Jane" <jane@example.com>'
        )
    return tuple(str(address) for address in header.addresses)


def example_toml() -> str:
    """The documented example file: every setting with its default."""
    lines = [
        "# LGS Reports configuration: every setting with its default.",
        "# Each [section] key can be overridden by the environment variable",
        "# LGS_SECTION_KEY (e.g. [database] url by LGS_DATABASE_URL); lists are",
        "# comma-separated there. Secrets are best given only as variables.",
    ]
    for section, cls in _sections().items():
        lines += ["", f"[{section}]"]
        default = cls()
        for f in dataclasses.fields(cls):
            value = getattr(default, f.name)
            lines.append(f"{_toml_key(section, f.name)} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


SECRETS = {("smtp", "password")}


def describe_settings(settings: Settings) -> str:
    """The settings in force, as TOML, with secrets and URL passwords masked."""
    lines = [f"# settings from {settings.source}, with LGS_* environment overrides applied"]
    for section in _sections():
        lines += ["", f"[{section}]"]
        values = getattr(settings, section)
        for f in dataclasses.fields(values):
            value = getattr(values, f.name)
            if (section, f.name) in SECRETS and value:
                value = "***"
            elif section == "database" and f.name == "url":
                value = mask_url(value) if value else ""
            lines.append(f"{_toml_key(section, f.name)} = {_toml_value(value)}")
    if settings.database_is_default:
        lines += ["", f"# the embedded warehouse: {settings.database_url}"]
    return "\n".join(lines) + "\n"
