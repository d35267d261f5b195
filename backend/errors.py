"""Error kinds and their exit codes. User errors get one actionable line; internal errors a log file."""
from __future__ import annotations


class OratorError(Exception):
    """Base of the errors Orator raises on purpose."""

    exit_code = 1


class UserError(OratorError):
    """Bad input or options: the message says what is wrong and what to do. Exit code 2."""

    exit_code = 2


class AudioError(UserError):
    """The audio file is missing, unreadable, empty or unusable."""


class Cancelled(OratorError):
    """The job was cancelled by the user (ESC in Blender, `cancel` in the worker, Ctrl-C)."""

    exit_code = 130


EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_CANCELLED = 130
