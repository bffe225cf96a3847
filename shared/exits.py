"""How a child process ended, in words: killed by which signal, or its exit code."""

from __future__ import annotations

import signal


def exit_reason(returncode: int | None) -> str:
    """`killed by SIGKILL` for a negative return code (POSIX: the signal), `exit code N` otherwise."""
    if returncode is None:
        return "still running, or its pipe closed"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
