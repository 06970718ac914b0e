"""``confirm``: a yes/no question. ``--yes`` answers it; with no terminal and no ``--yes`` it fails.
With ``persons: 2`` the second person's signature is the answer (``peaktrade.playbook.countersign``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.playbook.kinds import Prepared
from peaktrade.playbook.result import Status, StepResult
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = False
NO_TTY = "confirmation needs an operator at a terminal: run it in a terminal or pass --yes"


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    return Prepared(f"confirm: {render_value(step.body, tctx)}", step.effect)


def dry_run(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    """--dry-run: the question is shown, not asked (nor answered by --yes)."""
    who = " (the second person answers with a signature)" if step.raw.get("persons") == 2 else ""
    return StepResult(Status.WOULD_RUN, f"would ask: {prep.describe.removeprefix('confirm: ')} [y/n]{who}")


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    question = prep.describe.removeprefix("confirm: ")
    if step.raw.get("persons") == 2:
        from peaktrade.playbook.countersign import answer

        return answer(ctx, frame, step, question, "confirmed")
    if ctx.assume_yes:
        return StepResult.ok("confirmed via --yes", answer="yes")
    if not ctx.prompter.interactive():
        return StepResult.failed(NO_TTY)
    while True:
        reply = ctx.prompter.ask(f"? {question} [y/n] ")
        if reply is None:
            return StepResult.failed("no answer (end of input)")
        if reply.lower() in ("y", "yes"):
            return StepResult.ok("confirmed by the operator", answer="yes")
        if reply.lower() in ("n", "no"):
            return StepResult.failed("declined by the operator", answer="no")
