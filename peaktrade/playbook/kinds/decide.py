"""``decide``: a choice between named options, from the terminal or ``--answer STEP_ID=OPTION``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError
from peaktrade.playbook.kinds import Prepared
from peaktrade.playbook.result import Status, StepResult
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = False


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    spec = step.body
    question = render_value(spec["question"], tctx)
    options = {k: str(render_value(v, tctx)) for k, v in spec["options"].items()}
    return Prepared(f"decide: {question} ({', '.join(options)})", step.effect,
                    payload={"question": question, "options": options})


def dry_run(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    """--dry-run: the options are shown and nothing is asked. Without ``--answer`` no answer is
    recorded, so later ``when:`` conditions on ``steps.<id>.answer`` see none; with ``--answer`` the
    dry run takes it, to preview that branch."""
    options: dict[str, str] = prep.payload["options"]
    shown = "; ".join(f"{k}) {v}" for k, v in options.items())
    key = frame.step_key(step.id)
    answer = ctx.answers.get(key, ctx.answers.get(step.id))
    if answer in options:
        return StepResult(Status.WOULD_RUN, f"would take answer {answer} (--answer): {options[answer]} "
                                            f"(options {shown})", answer=answer)
    return StepResult(Status.WOULD_RUN, f"would show options {shown} for: {prep.payload['question']}")


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    options: dict[str, str] = prep.payload["options"]
    key = frame.step_key(step.id)
    answer = ctx.answers.get(key, ctx.answers.get(step.id))
    if answer is not None:
        if answer not in options:  # checked before the play starts; kept for sub-runs
            raise UsageError(f"--answer {key}={answer}: not one of {', '.join(options)}")
        return StepResult.ok(f"answer {answer} (--answer): {options[answer]}", answer=answer)
    if not ctx.prompter.interactive():
        return StepResult.failed(
            f"decision needs an answer: run it in a terminal or pass --answer {key}=OPTION "
            f"(options: {', '.join(options)})")
    ctx.echo(f"  ? {prep.payload['question']}")
    for name, text in options.items():
        ctx.echo(f"    {name}) {text}")
    while True:
        reply = ctx.prompter.ask(f"? Answer ({'/'.join(options)}): ")
        if reply is None:
            return StepResult.failed("no answer (end of input)")
        if reply in options:
            return StepResult.ok(f"answer {reply}: {options[reply]}", answer=reply)
        ctx.echo(f"  not an option: {reply!r}")
