"""A play's inputs, pinned at its start, and what a resume may run again.

* ``pin``: the hashes of config/config.toml and every policies/*.yaml when the play starts. Each act
  step re-checks them (``changed``) and is blocked, naming the file, when one changed: a limit loosened
  while a confirm prompt waited never reaches an order.
* ``interrupted_refusal``: a step journaled as started and never finished (the process died in it) is
  run again on ``--resume`` only when re-running it cannot repeat its effect: read steps, and actions
  that declare ``idempotent`` (they reconcile: ``runs.start`` finds its run by play step in the desk
  state, order actions find their intent by its deterministic client order id). Any other act step is
  refused with what to check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peaktrade.actions.registry import get as get_action
from peaktrade.hashing import file_sha256
from peaktrade.root import Root

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step


def pin(root: Root) -> dict[str, str]:
    files = [root.config_file, *sorted(root.policies_dir.glob("*.yaml"))]
    return {root.rel(f): _hash(f) for f in files}


def _hash(path) -> str:  # noqa: ANN001 - Path
    try:
        return file_sha256(path)
    except OSError:
        return "missing"


def changed(ctx: PlayContext) -> list[str]:
    if not ctx.pinned:
        return []
    now = pin(ctx.root)
    return sorted({*ctx.pinned, *now} - {k for k in ctx.pinned if now.get(k) == ctx.pinned[k]})


def interrupted_refusal(ctx: PlayContext, frame: Frame, step: Step) -> str | None:
    if step.id not in ctx.interrupted.get(frame.path, set()):
        return None
    if step.kind == "action":
        spec = get_action(step.body)
        if spec is not None and spec.idempotent:
            ctx.echo(f"  {frame.step_key(step.id)} was interrupted before: {step.body} reconciles what it did "
                     "(it never repeats an effect)")
            return None
    return (f"step {frame.step_key(step.id)} was interrupted while it ran (started, never finished) and "
            f"re-running it could repeat its effect: check what it did (logs/operations.log, peaktrade runs "
            f"status, peaktrade orders open), then start a new play")
