"""The live gate (DESIGN 5): live only if ``live.enabled``, the desk's recorded stage is ``live``, AND a
verified ``live_activation`` approval exists for the playbook frame that is running.

Every half is checked every time, and the message names each one that is missing. Anything that
cannot be read (policy file missing or invalid, desk state unavailable) counts as missing: the gate
fails closed. Two entry points:

- ``check_live_gate`` / ``require_live``: in the process that verified the approval (the play). The
  approval must be a record verified here (``records.lookup``); with ``frame`` given, it must have
  been signed for exactly that frame (playbook name, hash, params).
- ``live_gate_for_request``: in a detached worker (a live session) that has no in-process record: it
  re-verifies the stored request's signatures and bindings and checks its use belongs to the play.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peaktrade.errors import BlockedError, PeakTradeError
from peaktrade.root import Root

DECISION = "live_activation"


@dataclass(frozen=True)
class GateResult:
    allowed: bool
    missing: list[str] = field(default_factory=list)
    message: str = ""


def _live_enabled(root: Root) -> tuple[bool, str]:
    try:
        from peaktrade.policy.stages import load_stage_policy

        return load_stage_policy(root).live_enabled, ""
    except PeakTradeError as exc:
        return False, f" ({exc.message})"
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong reading the switch, it stays off
        return False, f" (policies/stages.yaml unreadable: {type(exc).__name__})"


def _stage_missing(root: Root) -> str | None:
    """None when the desk's recorded stage is live, else the missing half, naming the stage."""
    try:
        from peaktrade.policy.stages import read_stage_record

        record = read_stage_record(root)
    except PeakTradeError as exc:
        return f"the desk's stage could not be read ({exc.message})"
    except Exception as exc:  # noqa: BLE001 - an unreadable stage is not live
        return f"the desk's stage could not be read ({type(exc).__name__})"
    if record is not None and record.get("stage") == "live":
        return None
    stage = record.get("stage") if record else "not promoted yet (initial stage of policies/stages.yaml)"
    return f"the desk's recorded stage is {stage}, not live (peaktrade stage promote --to live)"


def _frame_problem(record: Any, frame: dict[str, Any] | None) -> str:
    if frame is None:
        return ""
    from peaktrade.hashing import canonical_json
    from peaktrade.policy.approvals import bindable_params

    subj = record.subject or {}
    if subj.get("playbook") != frame.get("playbook") or \
            ("playbook_hash" in frame and subj.get("playbook_hash") != frame["playbook_hash"]):
        return (f" (approval {record.request_id} was signed for playbook {subj.get('playbook')}, "
                f"not for {frame.get('playbook')})")
    if "params" in frame and canonical_json(subj.get("params")) != canonical_json(bindable_params(frame["params"])):
        return f" (approval {record.request_id} was signed for other params)"
    return ""


def _approved(approvals: Any, clock, frame: dict[str, Any] | None) -> tuple[bool, str]:
    from peaktrade.policy.records import lookup

    given = approvals.get(DECISION) if isinstance(approvals, dict) else None
    if given is None:
        return False, ""
    record = lookup(given)
    if record is None or record.decision != DECISION:
        return False, " (the record given is not a verified approval)"
    if clock.now() >= record.expires_at:
        return False, f" (approval {record.request_id} expired)"
    why = _frame_problem(record, frame)
    return not why, why


def _result(missing: list[str]) -> GateResult:
    if not missing:
        return GateResult(True, [], "live gate open")
    return GateResult(False, missing, "live gate closed: " + "; ".join(missing))


def _policy_halves(root: Root) -> list[str]:
    missing = []
    enabled, why_enabled = _live_enabled(root)
    if not enabled:
        missing.append(f"live.enabled is not true in policies/stages.yaml{why_enabled}")
    stage = _stage_missing(root)
    if stage:
        missing.append(stage)
    return missing


def check_live_gate(root: Root, *, approvals: dict, clock: Any = None,
                    frame: dict[str, Any] | None = None) -> GateResult:
    """``frame`` = {playbook, playbook_hash?, params?} of the running frame: the approval must be for it."""
    from peaktrade.clock import SYSTEM_CLOCK

    missing = _policy_halves(root)
    approved, why_approved = _approved(approvals, clock or SYSTEM_CLOCK, frame)
    if not approved:
        missing.append(f"no valid {DECISION} approval for this play{why_approved}")
    return _result(missing)


def require_live(root: Root, *, approvals: dict, what: str, clock: Any = None,
                 frame: dict[str, Any] | None = None) -> None:
    """Raise BlockedError (exit 3) naming ``what`` and each missing half unless the gate is open."""
    result = check_live_gate(root, approvals=approvals, clock=clock, frame=frame)
    if not result.allowed:
        raise BlockedError(f"{what} blocked: {result.message}", details=result.missing)


def live_gate_for_request(root: Root, request_id: str, *, play_id: str, clock: Any = None) -> str | None:
    """For a detached live worker: None when the gate is open for ``play_id``, else the reason (every half).

    Re-verifies the stored request from scratch (signatures, roles, requester, expiry, policies, exchange
    configuration, desk stage) and checks that it is a live_activation request whose one use in the desk
    state is held by exactly this play."""
    from peaktrade.clock import SYSTEM_CLOCK
    from peaktrade.policy.approvals import load_request
    from peaktrade.policy.verify import binding_problems, verify_doc

    clock = clock or SYSTEM_CLOCK
    missing = _policy_halves(root)
    why = ""
    try:
        doc = load_request(root, request_id)
        if doc["request"].get("decision") != DECISION:
            why = f" (request {request_id} is a {doc['request'].get('decision')} request)"
        else:
            from peaktrade.desk import open_desk

            use = open_desk(root).approval_use(request_id)
            if not use or use.get("by") != play_id:
                holder = f"held by {use.get('by')}" if use else "not bound to any play"
                why = f" (request {request_id} is {holder}, not by play {play_id})"
            else:
                problems = binding_problems(root, doc, token=play_id)
                verify_doc(root, doc, clock=clock)
                if problems:
                    why = f" ({problems[0]})"
    except PeakTradeError as exc:
        why = f" ({exc.message})"
    except Exception as exc:  # noqa: BLE001 - an approval that cannot be re-verified opens nothing
        why = f" (request {request_id} could not be verified: {type(exc).__name__})"
    if why:
        missing.append(f"no valid {DECISION} approval for play {play_id}{why}")
    result = _result(missing)
    return None if result.allowed else result.message
