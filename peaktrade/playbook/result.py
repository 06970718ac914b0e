"""Step and play outcomes as values (nox-style): a step ran and failed is not a step that could not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # ran, and the result was not what was expected
    ERRORED = "errored"  # could not run (bad template, invalid arguments, crash of an action)
    SKIPPED = "skipped"  # `when:` was false
    BLOCKED = "blocked"  # refused by a guard or policy
    WOULD_RUN = "would-run"  # --dry-run: an act step described, not executed


DONE = {Status.SUCCEEDED, Status.SKIPPED, Status.WOULD_RUN}


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"
    INTERRUPTED = "interrupted"

    @property
    def exit_code(self) -> int:
        return {"succeeded": 0, "failed": 1, "blocked": 3, "interrupted": 130}[self.value]


@dataclass
class StepResult:
    status: Status
    summary: str
    output: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    note: str | None = None
    approvals: dict[str, Any] = field(default_factory=dict)
    # a sub-run's outcome, so that a blocked sub-run blocks the parent
    sub_outcome: str | None = None

    @classmethod
    def ok(cls, summary: str, **kw: Any) -> StepResult:
        return cls(Status.SUCCEEDED, summary, **kw)

    @classmethod
    def failed(cls, summary: str, **kw: Any) -> StepResult:
        return cls(Status.FAILED, summary, **kw)

    @classmethod
    def errored(cls, summary: str, **kw: Any) -> StepResult:
        return cls(Status.ERRORED, summary, **kw)

    @classmethod
    def blocked(cls, summary: str, **kw: Any) -> StepResult:
        return cls(Status.BLOCKED, summary, **kw)
