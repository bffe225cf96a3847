"""A child process that lives no longer than the process that started it (`floorplan serve`'s parts)."""

from __future__ import annotations

import ctypes
import os
import signal


def die_with(parent_pid: int) -> None:
    """Be killed when `parent_pid`, the process that started us, dies (Linux), as a part of it."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the line above took effect
        os._exit(1)
