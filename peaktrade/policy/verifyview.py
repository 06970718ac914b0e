"""What ``approvals verify`` and ``approvals list`` check a request against, with the one verifier.

``verify_frame`` builds the playbook frame a request is checked for (the playbook as it is now, with the
given or the signed params), ``current_subject`` the present kill-switch engagement or stage transition,
and ``status_row`` the listing's complete / pending / used / expired / void from ``verify.check``'s parts.
"""

from __future__ import annotations

from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import BlockedError
from peaktrade.policy.approvals import _parse_ts
from peaktrade.policy.verify import _use, _who, binding_problems, verify_doc
from peaktrade.root import Root


def status_row(root: Root, doc: dict[str, Any], clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    """One listing row: complete / pending / used / expired / void, from the same ``check`` a play runs."""
    from peaktrade.policy.approvals import describe_subject

    req = doc["request"]
    subj = req.get("subject") or {}
    use = _use(root, req["id"])
    reason = ""
    if use:
        status = f"used by {_who(use.get('by'))}"
    elif clock.now() >= _parse_ts(req["expires_at"]):
        status = "expired"
    else:
        binding = binding_problems(root, doc, frame=_own_frame(root, subj))
        try:
            verify_doc(root, doc, clock=clock)
            status = "void" if binding else "complete"
            reason = binding[0] if binding else ""
        except BlockedError as exc:
            details = exc.details or [exc.message]
            only_missing = len(details) == 1 and " needs " in details[0] and "missing" in details[0]
            status = "pending" if only_missing and not binding else "void"
            reason = (binding or details)[0]
    return {"id": req["id"], "decision": req["decision"], "subject": describe_subject(subj),
            "requester": req["requester"], "created_at": req["created_at"], "expires_at": req["expires_at"],
            "signed_by": [s.get("name") for s in doc["signatures"]], "status": status, "reason": reason,
            "used_by": use}


def _own_frame(root: Root, subj: dict[str, Any]) -> dict[str, Any] | None:
    """A playbook subject checked against the playbook file as it is now, with the signed params."""
    from peaktrade.errors import PeakTradeError
    from peaktrade.hashing import playbook_hash

    if subj.get("kind") != "playbook":
        return None
    try:
        h = playbook_hash(root, str(subj.get("playbook")))
    except (OSError, PeakTradeError):
        h = "(missing)"
    return {"playbook": subj.get("playbook"), "playbook_hash": h, "params": subj.get("params") or {},
            "params_bound": True}


def verify_frame(root: Root, doc: dict[str, Any], play_params: list[str]) -> dict[str, Any] | None:
    """The frame ``approvals verify`` checks a playbook request against: the playbook as it is now, with
    ``--play-params`` resolved exactly as ``peaktrade play -p`` resolves them (default: the signed params)."""
    from peaktrade.errors import UsageError

    subj = doc["request"].get("subject") or {}
    if subj.get("kind") != "playbook":
        if play_params:
            raise UsageError("--play-params only applies to playbook requests")
        return None  # see current_subject
    if not play_params:
        return _own_frame(root, subj)
    from peaktrade.hashing import playbook_hash
    from peaktrade.playbook.model import load_playbook
    from peaktrade.playbook.params import resolve_params, split_assignments

    pb = load_playbook(root, str(subj.get("playbook")))
    return {"playbook": pb.name, "playbook_hash": playbook_hash(root, pb.name),
            "params": resolve_params(pb, split_assignments(play_params))}


def current_subject(root: Root, doc: dict[str, Any]) -> dict[str, Any]:
    """What a non-playbook request must equal now: the current engagement, or the current transition."""
    from peaktrade.errors import PeakTradeError

    subj = doc["request"].get("subject") or {}
    try:
        if subj.get("kind") == "kill_switch":
            from peaktrade.policy.killswitch import KillSwitch

            return {"kind": "kill_switch", "engaged_since": KillSwitch(root).status().engaged_since}
        if subj.get("kind") == "stage_promotion":
            from peaktrade.policy.promote import promotion_subject

            return promotion_subject(root, str(subj.get("to")))
    except PeakTradeError as exc:
        return {"kind": subj.get("kind"), "unavailable": exc.message}
    return subj


def check_change(root: Root, doc: dict[str, Any], *, operator: str | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> Any:
    """CI's check of a ``risk_limit_change``: its signatures and roles, and that the working tree's policy
    files are exactly the signed "after". The desk-bound parts (use, stage, exchange) are the play's."""
    from peaktrade.policy.verify import _change_problems, signed_record

    req = doc["request"]
    if req.get("decision") != "risk_limit_change":
        raise BlockedError(f"--change-only checks risk_limit_change requests; {req['id']} is {req.get('decision')}")
    problems = _change_problems(root, req)
    record = signed_record(root, doc, problems, operator=operator, clock=clock)
    if problems or record is None:
        raise BlockedError(f"approval {req['id']} (risk_limit_change) refused: {'; '.join(problems)}",
                           details=problems)
    return record
