"""Internal errors: the traceback goes to a log file, the user gets one line naming it.

Every front end (cli, batch, worker) writes its crash logs here, so none of them imports another for it.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .. import __version__


def log_dir() -> Path:
    """Where internal-error tracebacks go: $ORATOR_LOG_DIR, else the user cache folder."""
    if os.environ.get("ORATOR_LOG_DIR"):
        return Path(os.environ["ORATOR_LOG_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "orator" / "logs"


def write_crash_log(exc: BaseException) -> Path:
    """Save the traceback of an unexpected error; return the log path (a temp file if the cache is read-only)."""
    text = f"orator {__version__}, {time.strftime('%Y-%m-%d %H:%M:%S')}\nargv: {sys.argv}\n\n" + \
        "".join(traceback.format_exception(exc))
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text(text, encoding="utf-8")
    except OSError:
        fd, name = tempfile.mkstemp(prefix="orator-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        path = Path(name)
    return path
