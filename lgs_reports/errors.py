"""The project's exceptions, and the exit code each kind of failure ends a run with.

Every expected failure is an `LgsError` subclass whose message is one line that
says what went wrong, where, and what to do. The CLI prints it as
``error: <message>`` and exits with the class's ``exit_code``; anything else is
a bug and ends with a traceback and exit code 1.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_WAREHOUSE = 3
EXIT_DELIVERY_PENDING = 4
EXIT_BUSY = 5
EXIT_ARCHIVE = 6
EXIT_NOT_QUEUED = 7
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2, as shells report it
EXIT_TERMINATED = 143  # SIGTERM (kill, systemd stop, Kubernetes): 128 + 15


class LgsError(Exception):
    """Base of every expected failure; the message is shown to the user as is."""

    exit_code = EXIT_INTERNAL


class BadInputError(LgsError):
    """The user gave something we cannot use: an option, a period, a file, a setting."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(BadInputError):
    """The configuration file or an LGS_* variable is wrong."""


class PeriodError(BadInputError):
    """The period is malformed or holds no transactions."""


class LoadError(BadInputError):
    """A file cannot be loaded; the warehouse is left as it was."""


class WarehouseError(LgsError):
    """The warehouse cannot be reached or is not usable."""

    exit_code = EXIT_WAREHOUSE


class BusyError(LgsError):
    """Another run holds the lock we need."""

    exit_code = EXIT_BUSY


class DeliveryError(LgsError):
    """The brief is archived but could not be delivered; it waits in the outbox."""

    exit_code = EXIT_DELIVERY_PENDING


class ArchiveWriteError(LgsError):
    """The archive cannot be written (disk full, read-only, no permission, a file in the way);
    what was being written is removed, so the archive is as it was."""

    exit_code = EXIT_ARCHIVE

    def __init__(self, message: str, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem or message  # the path and the cause alone, for other messages


class NotQueuedError(LgsError):
    """The brief is archived, but its email is neither sent nor queued: the outbox cannot be
    written."""

    exit_code = EXIT_NOT_QUEUED
