"""Settings: one TOML file, every key overridable by an ``LGS_SECTION_KEY`` variable.

The file is ``--config``, else ``$LGS_CONFIG``, else ``lgs_reports.toml`` in the
working directory if present, else none (all defaults). ``[database] url`` is
overridden by ``LGS_DATABASE_URL``, ``[smtp] host`` by ``LGS_SMTP_HOST`` and so
on; lists are comma-separated in variables. ``lgs_reports.example.toml`` lists
every setting with its default. Secrets never leave this module unmasked: use
`mask_url` and `describe_settings` for anything shown to a person.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from lgs_reports.errors import ConfigError

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose",
    "Hibernating",
)


def segment_key(segment: str) -> str:
    """The settings key of a segment name: ``Can't Lose`` -> ``cant_lose``."""
    return re.sub(r"[^a-z]+", "_", segment.lower().replace("'", "")).strip("_")


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
class ActionSettings:
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
    sender: str = "lgs-reports@localhost"
    subject: str = "LGS executive brief: {period}"
    max_size_mb: float = 10.0  # larger messages leave the segment CSVs in the archive


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

    def segment_action(self, segment: str) -> str:
        return getattr(self.actions, segment_key(segment))


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
                values[attr] = _convert(
                    raw[key], hints[attr], f"{where_file}: [{section}] {key}", secret=secret
                )
            var = f"LGS_{section}_{key}".upper()
            if var in env:
                values[attr] = _convert(
                    env[var], hints[attr], f"environment variable {var}", secret=secret
                )
        built[section] = cls(**values)
    settings = Settings(**built, source=str(file) if file else "defaults")
    _validate(settings, where_file)
    return settings


def _validate(settings: Settings, where: str) -> None:
    if settings.smtp.security not in {"starttls", "tls", "none"}:
        raise ConfigError(
            f"{where}: [smtp] security must be starttls, tls or none, "
            f"got {settings.smtp.security!r}"
        )
    unknown = [s for s in settings.report.priority_segments if s not in SEGMENTS]
    if unknown:
        raise ConfigError(
            f"{where}: [report] priority_segments: unknown segment {unknown[0]!r}; "
            f"segments are: {', '.join(SEGMENTS)}"
        )
    if settings.report.rfm_window_days < 30:
        raise ConfigError(f"{where}: [report] rfm_window_days must be at least 30")


def mask_url(url: str) -> str:
    """A database URL with its password replaced by ``***``, safe to print."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


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
