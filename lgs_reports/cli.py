"""The command line: parse, merge settings, make one call into the library, map errors.

    lgs-reports [--period 2011|2011-Q4|2011-11] [--no-email] [--dry-run]   the brief
    lgs-reports load FILE...                                              load extracts
    lgs-reports sample                                                    the sample warehouse
    lgs-reports status                                                    what the warehouse holds
    lgs-reports archive list | archive show PERIOD                        archived briefs
    lgs-reports deliver [--resend-unconfirmed]                            send what is pending
    lgs-reports config [--example]                                        effective settings

Exit codes: 0 done; 1 internal error (a bug: with a traceback); 2 bad input
(option, period, file, setting); 3 warehouse unreachable; 4 brief archived but
delivery pending; 5 another run holds the lock; 6 the archive cannot be
written; 7 brief archived but its email neither sent nor queued; 130
interrupted (Ctrl-C); 143 stopped by SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

import lgs_reports
from lgs_reports import errors
from lgs_reports.config import Settings, load_settings

log = logging.getLogger("lgs_reports")

COMMANDS = ("report", "load", "sample", "status", "archive", "deliver", "config")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2, like every bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise errors.BadInputError(f"{message} (see {self.prog} --help)")


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a nested parser (archive list) must not overwrite with its default what the
    # outer one (archive) parsed; the defaults are set once, on the top-level parser.
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="settings file (default: $LGS_CONFIG, else ./lgs_reports.toml if present)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log warnings and errors only",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log debugging detail",
    )


#: What ``add_subparsers`` returns: each ``_*_command`` adds its command to it.
Commands = argparse._SubParsersAction


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lgs-reports",
        description="The monthly executive brief of London Gift Shop, from its warehouse.",
        epilog="Run without a command to build the brief. Exit codes: 0 done, 1 internal error, "
        "2 bad input, 3 warehouse unreachable, 4 delivery pending, 5 busy, 6 cannot write the "
        "archive, 7 email neither sent nor queued, 130 interrupted, 143 stopped (SIGTERM).",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {lgs_reports.__version__}"
    )
    parser.set_defaults(config=None, quiet=False, verbose=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for add_command in (
        _report_command,
        _load_command,
        _sample_command,
        _status_command,
        _archive_command,
        _deliver_command,
        _config_command,
    ):
        add_command(sub)
    return parser


def _report_command(sub: Commands) -> None:
    report = sub.add_parser(
        "report",
        help="build, archive and email the brief (the default command)",
        description="Build the brief of a period, archive it and email it. "
        "Example: lgs-reports --period 2011-11",
    )
    report.add_argument(
        "--period",
        metavar="PERIOD",
        help="2011 (year), 2011-Q4 (quarter) or 2011-11 (month); "
        "default: the latest complete month in the warehouse",
    )
    report.add_argument("--no-email", action="store_true", help="archive only; send nothing")
    report.add_argument(
        "--dry-run",
        action="store_true",
        help="write the email as a .eml file beside the brief instead of sending it",
    )
    _common(report)


def _load_command(sub: Commands) -> None:
    load = sub.add_parser(
        "load",
        help="load extracts (pg_dump .sql[.gz], .csv[.gz], .xlsx) into the warehouse",
        description="Load files into the warehouse, each all or nothing. "
        "Example: lgs-reports load retail.sql.gz",
    )
    load.add_argument("paths", nargs="+", metavar="FILE", type=Path)
    load.add_argument(
        "--encoding",
        default="utf-8",
        help="text encoding of CSV files (default utf-8; e.g. cp1252 for Windows exports)",
    )
    load.add_argument(
        "--max-rejects",
        type=int,
        default=0,
        metavar="N",
        help="load the good rows when at most N are bad; the bad ones go to a rejects CSV",
    )
    load.add_argument(
        "--rejects-dir",
        type=Path,
        metavar="DIR",
        help="where rejects CSVs go (default: <output dir>/rejects)",
    )
    _common(load)


def _sample_command(sub: Commands) -> None:
    sample = sub.add_parser(
        "sample",
        help="fill an empty warehouse with the generated sample data",
        description="Generate the deterministic sample (Dec 2009 - Dec 2011) into an empty "
        "warehouse. Example: lgs-reports sample",
    )
    _common(sample)


def _status_command(sub: Commands) -> None:
    status = sub.add_parser(
        "status",
        help="show what the warehouse holds and the loads so far",
        description="Show the warehouse, its data window and its loads. "
        "Example: lgs-reports status",
    )
    _common(status)


def _archive_command(sub: Commands) -> None:
    archive = sub.add_parser(
        "archive",
        help="list archived briefs or show one",
        description="Archived briefs. Examples: lgs-reports archive list; "
        "lgs-reports archive show 2011-11",
    )
    archive_sub = archive.add_subparsers(
        dest="archive_command", parser_class=_Parser, required=True
    )
    archive_list = archive_sub.add_parser("list", help="every archived brief, newest first")
    _common(archive_list)
    archive_show = archive_sub.add_parser("show", help="the manifest of one period's brief")
    archive_show.add_argument("period", metavar="PERIOD")
    archive_show.add_argument("--json", action="store_true", help="print the manifest as JSON")
    _common(archive_show)
    _common(archive)


def _deliver_command(sub: Commands) -> None:
    deliver = sub.add_parser(
        "deliver",
        help="send briefs waiting in the outbox",
        description="Send what earlier runs could not. Example: lgs-reports deliver",
    )
    deliver.add_argument(
        "--resend-unconfirmed",
        action="store_true",
        help="also send again to recipients left unconfirmed (a run stopped after handing the "
        "message to the server, before its answer was recorded: they may have it already)",
    )
    _common(deliver)


def _config_command(sub: Commands) -> None:
    config = sub.add_parser(
        "config",
        help="print the effective settings (secrets masked)",
        description="Print the settings in force. Example: lgs-reports config --example",
    )
    config.add_argument(
        "--example", action="store_true", help="print the example file with every default"
    )
    _common(config)


def _with_default_command(argv: Sequence[str]) -> list[str]:
    """Put the command first: ``report`` when none is named; the common options
    (``-q``, ``-v``, ``--config FILE``) may come before the command too."""
    args = list(argv)
    if any(a in ("-h", "--help", "--version") for a in args[:1]):
        return args
    at = next((i for i, a in enumerate(args) if a in COMMANDS), None)
    if at is None:
        return ["report", *args]
    return [args[at], *args[:at], *args[at + 1 :]]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, as Ctrl-C is: the same clean-up runs."""


@contextlib.contextmanager
def _sigterm_interrupts(received: list[int]) -> Iterator[None]:
    """Within the block, SIGTERM (``kill``, ``systemctl stop``, Kubernetes) interrupts the
    run like Ctrl-C instead of killing it outright; ``received`` notes that it came."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second must not cut the clean-up
        received.append(signum)
        raise Terminated

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lgs-reports`` and ``python -m lgs_reports``; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    received: list[int] = []
    try:
        with _sigterm_interrupts(received):
            args = build_parser().parse_args(_with_default_command(argv))
            settings = load_settings(args.config)
            from lgs_reports.logs import configure

            level = "WARNING" if args.quiet else "DEBUG" if args.verbose else settings.log.level
            configure(level)
            return COMMAND_RUNNERS[args.command](args, settings)
    except SystemExit:
        raise  # --help, --version
    except BaseException as exc:
        return _failed(exc, terminated=bool(received))


def _failed(exc: BaseException, *, terminated: bool) -> int:
    """The one line for a run that did not finish, and its exit code: the one place."""
    if terminated:  # whatever it surfaced as: DuckDB turns a signal into an error of its own
        print("error: stopped by SIGTERM; nothing was left half-written", file=sys.stderr)
        return errors.EXIT_TERMINATED
    if isinstance(exc, errors.LgsError):
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        print("error: interrupted; nothing was left half-written", file=sys.stderr)
        return errors.EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return errors.EXIT_OK
    traceback.print_exception(exc)
    print(
        "error: internal error (a bug in lgs-reports); please report it with the trace above",
        file=sys.stderr,
    )
    return errors.EXIT_INTERNAL


def _run_report(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports.report import build_brief

    outcome = build_brief(
        settings,
        period=args.period,
        output_dir=Path(settings.output.dir),
        email=not args.no_email,
        dry_run=args.dry_run,
    )
    print(outcome.summary())
    return errors.EXIT_OK


def _run_load(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports.load import load_file
    from lgs_reports.logs import progress_bar
    from lgs_reports.warehouse import Warehouse

    if args.max_rejects < 0:
        raise errors.BadInputError("--max-rejects must be 0 or more")
    rejects_dir = args.rejects_dir or Path(settings.output.dir) / "rejects"
    with Warehouse.from_settings(settings) as warehouse:
        for path in args.paths:
            result = load_file(
                warehouse,
                path,
                encoding=args.encoding,
                max_rejects=args.max_rejects,
                rejects_dir=rejects_dir,
                progress=progress_bar,
            )
            print(result.summary())
    return errors.EXIT_OK


def _run_sample(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports.sample import load_sample
    from lgs_reports.warehouse import Warehouse

    with Warehouse.from_settings(settings) as warehouse:
        print(load_sample(warehouse).summary())
    return errors.EXIT_OK


def _run_status(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports.status import describe_warehouse
    from lgs_reports.warehouse import Warehouse

    with Warehouse.from_settings(settings) as warehouse:
        print(describe_warehouse(warehouse))
    return errors.EXIT_OK


def _run_archive(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports import archive

    store = archive.RevisionStore(settings.output.dir)
    if args.archive_command == "list":
        print(archive.format_report_list(store.list()))
    else:
        manifest = store.read_manifest(args.period)
        print(json.dumps(manifest, indent=2) if args.json else archive.format_manifest(manifest))
    return errors.EXIT_OK


def _run_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports.mail import deliver_pending

    outcomes = deliver_pending(
        settings, Path(settings.output.dir), resend_unconfirmed=args.resend_unconfirmed
    )
    if not outcomes:
        print("deliver: nothing pending")
    for outcome in outcomes:
        print(outcome.note)
    return errors.EXIT_OK  # anything still pending raised DeliveryError (exit 4)


def _run_config(args: argparse.Namespace, settings: Settings) -> int:
    from lgs_reports.config import describe_settings, example_toml

    print(example_toml() if args.example else describe_settings(settings), end="")
    return errors.EXIT_OK


COMMAND_RUNNERS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "report": _run_report,
    "load": _run_load,
    "sample": _run_sample,
    "status": _run_status,
    "archive": _run_archive,
    "deliver": _run_deliver,
    "config": _run_config,
}
