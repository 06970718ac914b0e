"""The one user-facing error type and the exit codes of DESIGN 8.

Code raises ``PeakTradeError`` (or a subclass) for anything the operator must read; the
top-level handler in ``peaktrade.cli`` prints ``message`` (plus ``details``) and exits with
``exit_code``. Anything else that escapes is a bug and is reported as such.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a step, check or rule failed (alerts: a CRITICAL fired)
    USAGE = 2  # bad usage or invalid input (schema errors)
    BLOCKED = 3  # blocked by a guard or policy (live gate, missing approval, kill switch)
    INTERRUPTED = 130


class PeakTradeError(Exception):
    """An error the operator reads: one clear line, optional located details."""

    exit_code: int = ExitCode.FAILED

    def __init__(self, message: str, *, details: list[str] | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(PeakTradeError):
    """Bad usage or invalid input (exit 2)."""

    exit_code = ExitCode.USAGE


class BlockedError(PeakTradeError):
    """Blocked by a guard or policy (exit 3)."""

    exit_code = ExitCode.BLOCKED


class CheckFailed(PeakTradeError):
    """A step, check or rule failed (exit 1)."""

    exit_code = ExitCode.FAILED
