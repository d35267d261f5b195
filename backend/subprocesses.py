"""Child processes that never outlive their parent (Linux: PR_SET_PDEATHSIG; elsewhere a parent-pid watch).

The batch pool, the worker's job process and the recogniser's forked decoder all call
`die_with_parent()` first thing, so a SIGKILLed parent (the add-on's timeout, `kill -9` of a batch)
leaves no process decoding on for tens of seconds or idling forever on the caller's pipes.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
PARENT_PID_ENV = "ORATOR_PARENT_PID"  # set by a parent that wants the check against its own pid
WATCH_INTERVAL_S = 0.5


KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL


def die_with_parent(sig: int = KILL, expected_parent: int | None = None) -> None:
    """Ask the kernel to send `sig` to this process when its parent exits (checked once more after the call).

    `expected_parent`: the pid the parent had; if it is already gone (re-parented), `sig` comes at once.
    """
    parent = expected_parent or os.getppid()
    done = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            done = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
        except (OSError, AttributeError):
            done = False
    if not done:  # other systems: a daemon thread notices the re-parenting
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(WATCH_INTERVAL_S)
            os.kill(os.getpid(), sig)
        threading.Thread(target=watch, name="orator-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)
