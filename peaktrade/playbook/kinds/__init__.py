"""Step kinds: one small module per kind, each satisfying ``StepKind``; ``KINDS`` is the registry.

A kind prepares a step (renders its templates, checks its arguments) and executes the prepared
step. Guards are not a kind's business: ``executor.execute_step`` enforces them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step
    from peaktrade.playbook.result import StepResult


class PrepareError(Exception):
    """The step cannot run as written (unknown action, invalid arguments): an ``errored`` step."""


@dataclass
class Prepared:
    describe: str  # one line: what the step does (dry-run, checklist)
    effect: str = "read"  # the stricter of the step's and the action's effect
    with_: Any = None
    argv: list[str] | None = None
    live_sensitive: bool = False
    payload: dict[str, Any] = field(default_factory=dict)


class StepKind(Protocol):
    gated: bool  # True: live gate and kill switch apply (it touches systems); False: a human step

    def prepare(self, ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared: ...

    def execute(self, ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult: ...


def _registry() -> dict[str, StepKind]:
    from peaktrade.playbook.kinds import action, approve, confirm, decide, manual, run, subplay

    return {"run": run, "action": action, "confirm": confirm, "manual": manual, "approve": approve,
            "decide": decide, "playbook": subplay}  # type: ignore[dict-item]


_KINDS: dict[str, StepKind] | None = None


def get(kind: str) -> StepKind:
    global _KINDS
    if _KINDS is None:
        _KINDS = _registry()
    return _KINDS[kind]
