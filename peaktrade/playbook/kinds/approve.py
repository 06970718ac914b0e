"""``approve``: a two-person approval verified by the policy package. ``--yes`` never answers it;
when approvals cannot be verified the step is blocked (fail closed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.playbook.guards import check_approval, verify_approval
from peaktrade.playbook.kinds import Prepared
from peaktrade.playbook.result import Status, StepResult
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = False


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    return Prepared(f"approve: {render_value(step.body, tctx)}", "read")


def signers_text(record: dict[str, Any]) -> str:
    signers = record.get("signers") or []
    names = []
    for s in signers:
        if isinstance(s, dict):
            names.append(f"{s.get('name', '?')} ({s.get('role') or ', '.join(s.get('roles') or [])})")
        else:
            names.append(str(s))
    return ", ".join(names) or "signers not listed"


def dry_run(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    """--dry-run: the approval is checked but not bound to the play (the real play still can use it);
    blocked as the real play would be when it is missing or invalid."""
    decision = prep.describe.removeprefix("approve: ")
    record, message = check_approval(ctx, frame, decision)
    if record is None:
        return StepResult.blocked(f"approval {decision!r}: {message}")
    return StepResult(Status.WOULD_RUN, f"would require approval {decision}: request {record.get('request_id')} "
                                        f"is valid, signed by {signers_text(record)} (checked, not bound: dry run)",
                      data={"approval": record})


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    decision = prep.describe.removeprefix("approve: ")
    record, message = verify_approval(ctx, frame, decision)
    if record is None:
        return StepResult.blocked(f"approval {decision!r}: {message}")
    return StepResult.ok(f"{decision} approved by {signers_text(record)}", approvals={decision: record})
