"""``playbook``: another playbook as a sub-run in the same journal, with its own guards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.playbook.kinds import Prepared
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step
    from peaktrade.playbook.result import StepResult

gated = False  # its own steps pass through the guards one by one


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    args = render_value(step.raw.get("with") or {}, tctx)
    return Prepared(f"playbook: {step.body}", step.effect, with_=args)


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    from peaktrade.playbook.executor import run_subplay

    return run_subplay(ctx, frame, frame.step_key(step.id), step.body, prep.with_ or {})
