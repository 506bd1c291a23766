"""A process forked to work beside this one for a moment: the draftsman's helper that
draws charts, the typesetter's painter that paints pages.

It starts with this process's memory as it was at the fork (the libraries imported, the
figures, the laid-out pages), sends what it makes through a pipe, dies with this process
(Linux's PR_SET_PDEATHSIG) and never returns into this process's code: it ends with
``os._exit``, for the exit handlers and buffers it inherited are not its own.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any


class Forked:
    """A forked process that runs ``life(writer)``; this side reads ``reader``.

    The child first closes its copies of ``inherited`` pipe ends (so that the last
    writer gone still means end of file to their readers). Raises OSError when no
    process can be had.
    """

    def __init__(self, life: Callable[[Any], None], inherited: Sequence[Any] = ()) -> None:
        self.reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
        parent = os.getpid()
        try:
            self.pid = os.fork()
        except OSError:
            self.reader.close()
            writer.close()
            raise
        if self.pid == 0:
            try:
                for end in (self.reader, *inherited):
                    end.close()
                die_with_parent(parent)
                life(writer)
            finally:
                os._exit(0)
        writer.close()
        self._reaped = False

    def close(self, *, finished: bool) -> None:
        """Reap the process; one that has not ``finished`` (after an error here) is
        killed first."""
        self.reader.close()
        if not self._reaped:
            if not finished:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            self.reap()

    def reap(self) -> int:
        """Wait for the process to end; its exit code (negative: the signal)."""
        self._reaped = True
        return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux's PR_SET_PDEATHSIG);
    exit now if it already has. Elsewhere the process ends at its next send, into a pipe
    nobody reads."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


def ended(code: int | None) -> str:
    """How a process ended, for a person: "exit status 1", "killed by SIGKILL"."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
