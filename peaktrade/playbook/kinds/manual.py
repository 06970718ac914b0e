"""``manual``: an instruction the operator carries out and ticks off, with an optional note.
With ``persons: 2`` the second person's signature ticks it off (``peaktrade.playbook.countersign``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.playbook.kinds import Prepared
from peaktrade.playbook.result import Status, StepResult
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = False
VIA_YES = "acknowledged via --yes"
NO_TTY = "manual step needs an operator at a terminal to tick it off: run it in a terminal or pass --yes"


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    return Prepared(f"manual: {render_value(step.body, tctx)}", step.effect)


def dry_run(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    """--dry-run: the instruction is shown, not ticked off."""
    who = "the operator and a second person (signature)" if step.raw.get("persons") == 2 else "the operator"
    return StepResult(Status.WOULD_RUN,
                      f"would ask {who} to do and tick off: {prep.describe.removeprefix('manual: ')}")


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    instruction = prep.describe.removeprefix("manual: ")
    if step.raw.get("persons") == 2:
        from peaktrade.playbook.countersign import answer

        return answer(ctx, frame, step, instruction, "ticked off")
    if ctx.assume_yes:
        return StepResult.ok("ticked off (--yes)", note=VIA_YES)
    if not ctx.prompter.interactive():
        return StepResult.failed(NO_TTY)
    ctx.echo(f"  > {instruction}")
    while True:
        reply = ctx.prompter.ask("? Done? [y/n] ")
        if reply is None:
            return StepResult.failed("not ticked off (end of input)")
        if reply.lower() in ("y", "yes", "done"):
            note = ctx.prompter.ask("? Note (optional): ") or None
            return StepResult.ok("ticked off by the operator", note=note)
        if reply.lower() in ("n", "no"):
            note = ctx.prompter.ask("? Why not (optional): ") or None
            return StepResult.failed("not done", note=note)
