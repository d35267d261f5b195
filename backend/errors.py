"""Error kinds and the exit codes of every front end (the one place they are defined).

User errors get one actionable line; internal errors a log file (backend/app/crash_log.py).

    EXIT_OK              0    finished
    EXIT_INTERNAL        1    internal error: one line naming the log file with the traceback
    EXIT_USER            2    bad input or options (also argparse usage errors): one line on stderr
    EXIT_BATCH_FAILURES  3    `batch` finished, but some files failed (listed in the report and manifest)
    EXIT_CANCELLED     130    cancelled (Ctrl-C, SIGTERM, `cancel`), as a shell reports SIGINT
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_BATCH_FAILURES = 3
EXIT_CANCELLED = 130


class OratorError(Exception):
    """Base of the errors Orator raises on purpose."""

    exit_code = EXIT_INTERNAL


class UserError(OratorError):
    """Bad input or options: the message says what is wrong and what to do. Exit code 2."""

    exit_code = EXIT_USER


class AudioError(UserError):
    """The audio file is missing, unreadable, empty or unusable."""


class Cancelled(OratorError):
    """The job was cancelled by the user (ESC in Blender, `cancel` in the worker, Ctrl-C)."""

    exit_code = EXIT_CANCELLED
