"""``action``: a registered Python action; its rendered ``with:`` is checked against its schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from peaktrade.playbook.kinds import Prepared, PrepareError
from peaktrade.playbook.result import Status, StepResult
from peaktrade.problems import json_path
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = True
_VALIDATORS: dict[str, Any] = {}  # action name -> its schema's validator (built once per process)


def _validator(spec: Any) -> Any:
    from peaktrade.schemas import validator_for

    v = _VALIDATORS.get(spec.name)
    if v is None or v.schema is not spec.schema:
        v = _VALIDATORS[spec.name] = validator_for(spec.schema)
    return v


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    from peaktrade.actions import registry

    spec = registry.get(step.body)
    if spec is None:
        raise PrepareError(f"unknown action {step.body!r}")
    args = render_value(step.raw.get("with") or {}, tctx)
    errors = sorted(_validator(spec).iter_errors(args), key=lambda e: list(e.absolute_path))
    if errors:
        msgs = "; ".join(f"{json_path(list(e.absolute_path))}: {e.message}" for e in errors)
        raise PrepareError(f"invalid arguments for action {spec.name}: {msgs}")
    if spec.describe is not None:
        text = spec.describe(args)
    else:
        text = f"{spec.name} {json.dumps(args, sort_keys=True, default=str)}" if args else spec.name
    effect = "act" if "act" in (step.effect, spec.effect) else "read"
    return Prepared(text, effect, with_=args, live_sensitive=spec.live_sensitive, payload={"spec": spec})


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    from peaktrade.actions.registry import ActionContext
    from peaktrade.playbook.guards import frame_approvals

    spec = prep.payload["spec"]
    actx = ActionContext(
        root=ctx.root, operator=ctx.operator, play_id=ctx.play_id, playbook=frame.playbook.name, step_id=step.id,
        dry_run=ctx.dry_run, assume_yes=ctx.assume_yes, clock=ctx.clock, echo=ctx.echo, params=frame.params,
        approvals=frame_approvals(ctx, frame), extra={"frame": frame.path, "mode": ctx.mode},
    )
    res = spec.fn(actx, prep.with_)
    status = Status.BLOCKED if res.blocked else Status.SUCCEEDED if res.ok else Status.FAILED
    return StepResult(status, res.summary, output=res.output or "", data=dict(res.data or {}))
