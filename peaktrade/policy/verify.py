"""Verifying a signed approval request and binding it to the one play (or act) that uses it."""

from __future__ import annotations

from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import BlockedError
from peaktrade.policy.approvals import _lock, _parse_ts, _save, list_requests, load_request, request_bytes
from peaktrade.policy.records import ApprovalRecord, Signer, remember
from peaktrade.root import Root


def _signature_problems(doc: dict[str, Any], roles, excluded: set[str], allow_requester: bool):
    """(valid signers as (person, fingerprint), one problem line per refused signature)."""
    from peaktrade.policy import sshsig

    data = request_bytes(doc)
    allowed = roles.allowed_signers(sshsig.NAMESPACE)
    valid, problems, names, fps = [], [], {}, {}
    for sig in doc["signatures"]:
        name = str(sig.get("name"))
        person = roles.people.get(name)
        if person is None:
            problems.append(f"{name} is not listed in policies/roles.yaml")
            continue
        text = sig.get("signature") if isinstance(sig.get("signature"), str) else ""
        fp_any = sshsig.check(data, text)
        if fp_any is None:
            problems.append(f"the signature of {name} is not a signature over this request")
            continue
        fp = sshsig.verify(data, text, name, allowed)
        if fp is None:
            problems.append(f"{name} signed with a key not listed for {name} in policies/roles.yaml ({fp_any})")
            continue
        if name in names:
            problems.append(f"{name} signed twice: one person counts once")
            continue
        if fp in fps:
            problems.append(f"{name} signed with the same key as {fps[fp]}: one person counts once")
            continue
        names[name], fps[fp] = True, name
        if name in excluded and not allow_requester:
            # the request's requester, or the operator acting on it now: say which, or the refusal
            # blames the wrong person ("alice requested" when bob did and alice runs the play)
            role = "requested this approval" if name == doc["request"].get("requester") else \
                "is the operator acting on this approval"
            problems.append(f"{name} {role} and cannot approve it (allow_requester: false)")
            continue
        valid.append((person, fp))
    return valid, problems


def verify_doc(root: Root, doc: dict[str, Any], *, requester: str | None = None,
               clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """Check expiry, signatures, roles and distinctness; raise BlockedError naming every refusal."""
    from peaktrade.policy.roles import best_assignment, load_roles

    req = doc["request"]
    rid, decision = req["id"], req["decision"]
    now = clock.now()
    expires = _parse_ts(req["expires_at"])
    if now >= expires:
        raise BlockedError(f"approval {rid} ({decision}) expired at {req['expires_at']}")
    roles = load_roles(root)
    spec = roles.decision(decision)
    excluded = {req["requester"]} | ({requester} if requester else set())
    valid, problems = _signature_problems(doc, roles, excluded, spec.allow_requester)
    slots, missing = best_assignment(spec.requires, [p for p, _ in valid])
    if missing:
        have = ", ".join(f"{p.name} [{', '.join(p.roles)}]" for p, _ in valid) or "none"
        need = ", ".join("another person" if r == "any" else f"{'an' if r[0] in 'aeiou' else 'a'} {r}"
                         for r in missing)
        problems.append(f"{decision} needs {spec.describe()} from distinct people: missing {need} "
                        f"(valid signers: {have})")
        raise BlockedError(f"approval {rid} ({decision}) refused: {problems[0]}", details=problems)
    fp_of = {p.name: fp for p, fp in valid}
    signers = [Signer(p.name, list(p.roles), fp_of[p.name]) for p in slots if p is not None]
    return ApprovalRecord(decision, rid, req["subject"], req["requester"], signers, expires, now,
                          extra={"policies_hash": req["policies_hash"]})


def _bind(root: Root, doc: dict[str, Any], token: str, record: ApprovalRecord, clock: Clock) -> ApprovalRecord:
    """Mark the request used by ``token`` (a play id, a release, a promotion); refuse another token."""
    from dataclasses import replace

    with _lock(root):
        fresh = load_request(root, doc["request"]["id"])
        used = fresh.get("used_by")
        if used and used.get("by") != token:
            raise BlockedError(f"approval {record.request_id} was already used by {used.get('by')} "
                               "(replay refused)")
        if not used:
            fresh["used_by"] = {"by": token, "at": utc_iso(clock.now())}
            _save(root, fresh)
    return remember(replace(record, play_id=token))


def verify_request(root: Root, request_id: str, *, decision: str, subject: dict[str, Any], token: str,
                   requester: str | None = None, clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """Verify one request for a non-playbook act (kill-switch release, stage promotion) and bind it."""
    from peaktrade.hashing import canonical_json, policies_hash

    doc = load_request(root, request_id)
    req = doc["request"]
    if req["decision"] != decision:
        raise BlockedError(f"approval {request_id} is for {req['decision']}, not {decision}")
    if canonical_json(req["subject"]) != canonical_json(subject):
        raise BlockedError(f"approval {request_id} was signed for {canonical_json(req['subject'])}, "
                           f"not {canonical_json(subject)}")
    if req["policies_hash"] != policies_hash(root):
        raise BlockedError(f"approval {request_id} was signed for other policies (policies/ changed since)")
    used = doc.get("used_by")
    if used and used.get("by") != token:
        raise BlockedError(f"approval {request_id} was already used by {used.get('by')} (replay refused)")
    return _bind(root, doc, token, verify_doc(root, doc, requester=requester, clock=clock), clock)


def _binding_problem(doc: dict[str, Any], playbook_hash: str, params: Any, policies_hash: str,
                     play_id: str) -> str | None:
    from peaktrade.hashing import canonical_json
    from peaktrade.policy.approvals import bindable_params

    params = bindable_params(params)
    req, rid = doc["request"], doc["request"]["id"]
    subj = req["subject"]
    if subj.get("playbook_hash") != playbook_hash:
        return f"approval {rid} was signed for another version of the playbook file"
    if canonical_json(subj.get("params")) != canonical_json(params):
        return (f"approval {rid} was signed for params {canonical_json(subj.get('params'))}, "
                f"this play has {canonical_json(params)}")
    if req.get("policies_hash") != policies_hash:
        return f"approval {rid} was signed for other policies (policies/ changed since)"
    used = doc.get("used_by")
    if used and used.get("by") != play_id:
        return f"approval {rid} was already used by play {used.get('by')} (replay refused)"
    return None


def verify_for_play(root: Root, decision: str, *, playbook: str, playbook_hash: str, params: dict[str, Any],
                    policies_hash: str, play_id: str, requester: str | None,
                    clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """The verified approval of ``decision`` for this play; BlockedError with the precise reason otherwise."""
    if not play_id:
        raise BlockedError(f"{decision} approvals are bound to a play: no play id given")
    docs = [d for d in list_requests(root)
            if d["request"].get("decision") == decision and d["request"].get("subject", {}).get("kind") == "playbook"
            and d["request"]["subject"].get("playbook") == playbook]
    if not docs:
        raise BlockedError(f"no {decision} approval request for playbook {playbook} (create one with "
                           f"'peaktrade approvals request --playbook {playbook} --decision {decision}')")
    reasons: list[str] = []
    for doc in docs:  # newest first; the first that verifies wins
        problem = _binding_problem(doc, playbook_hash, params, policies_hash, play_id)
        if problem:
            reasons.append(problem)
            continue
        try:
            record = verify_doc(root, doc, requester=requester, clock=clock)
        except BlockedError as exc:
            reasons.append(exc.message)
            continue
        return _bind(root, doc, play_id, record, clock)
    raise BlockedError(reasons[0] if len(reasons) == 1 else f"no valid {decision} approval for playbook "
                       f"{playbook} ({len(reasons)} requests refused): {reasons[0]}", details=reasons)
