"""Verifying a signed approval request and binding it to the one play (or act) that uses it.

One verifier: ``check`` is what a play's approval guard, ``approvals verify``, the dry run and the
listing all run; ``verify_for_play`` / ``verify_request`` add only the binding. The one use of a request
is recorded in the desk state (``DeskStore.bind_approval``, atomic); the request file's ``used_by`` is a
display copy, and editing it changes nothing.
"""

from __future__ import annotations

from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import BlockedError
from peaktrade.policy.approvals import (
    _lock,
    _parse_ts,
    _save,
    exchange_hash,
    list_requests,
    load_request,
    request_bytes,
)
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
    problems = problems + _requester_problems(root, doc, roles)
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


def _requester_problems(root: Root, doc: dict[str, Any], roles) -> list[str]:
    """The requester must have signed the request with one of their own keys (DESIGN 7)."""
    from peaktrade.policy.identity import check

    rs = doc.get("requester_signature")
    name = doc["request"].get("requester")
    if not isinstance(rs, dict) or rs.get("name") != name:
        return [f"the requester {name} did not sign the request (requests are signed at 'approvals request')"]
    if check(root, str(name), request_bytes(doc), rs.get("signature"), roles) is None:
        return [f"the requester's signature is not {name}'s signature over this request"]
    return []


def _use(root: Root, request_id: str) -> dict[str, Any] | None:
    from peaktrade.desk import open_desk

    return open_desk(root).approval_use(request_id)


def binding_problems(root: Root, doc: dict[str, Any], *, subject: dict[str, Any] | None = None,
                     frame: dict[str, Any] | None = None, token: str | None = None) -> list[str]:
    """Why ``doc`` does not bind what is about to happen (empty = it does).

    ``frame`` = {playbook, playbook_hash, params} of a playbook frame; ``subject`` the exact subject of
    another act; ``token`` the play id (or act) that would use it — None only to check, never to bind.
    """
    from peaktrade.hashing import canonical_json, policies_hash
    from peaktrade.policy.approvals import bindable_params, desk_stage

    req, rid = doc["request"], doc["request"]["id"]
    subj = req.get("subject") or {}
    out: list[str] = []
    if frame is not None:
        if subj.get("kind") != "playbook" or subj.get("playbook") != frame["playbook"]:
            out.append(f"approval {rid} was signed for {canonical_json(subj)}, not playbook {frame['playbook']}")
        elif subj.get("playbook_hash") != frame["playbook_hash"]:
            out.append(f"approval {rid} was signed for another version of the playbook file")
        else:
            params = frame["params"] if frame.get("params_bound") else bindable_params(frame["params"])
            if canonical_json(subj.get("params")) != canonical_json(params):
                out.append(f"approval {rid} was signed for params {canonical_json(subj.get('params'))}, "
                           f"this play has {canonical_json(params)}")
    elif subject is not None and canonical_json(subj) != canonical_json(subject):
        out.append(f"approval {rid} was signed for {canonical_json(subj)}, not {canonical_json(subject)}")
    if req.get("version", 1) < 2:
        out.append(f"approval {rid} is an old (version 1) request that binds neither the exchange nor the stage: "
                   "request it again")
        return out
    if req.get("policies_hash") != policies_hash(root):
        out.append(f"approval {rid} was signed for other policies (policies/ changed since)")
    if req.get("exchange_hash") != exchange_hash(root):
        out.append(f"approval {rid} was signed for another exchange configuration (the [exchange] section of "
                   "config/config.toml changed since: exchange id, account or credential variables)")
    stage = desk_stage(root)
    if req.get("desk_stage") != stage:
        out.append(f"approval {rid} was signed at desk stage {req.get('desk_stage')}, the desk is now at {stage}")
    out += _change_problems(root, req)
    used = _use(root, rid)
    if used and used.get("by") != token:
        out.append(f"approval {rid} was already used by {_who(used.get('by'))} (replay refused)")
    return out


def _who(token: Any) -> str:
    text = str(token)
    return text if " " in text or "@" in text else f"play {text}"


def _change_problems(root: Root, req: dict[str, Any]) -> list[str]:
    """A ``risk_limit_change`` is valid only while the working tree's policies are exactly the signed 'after'."""
    from peaktrade.hashing import file_sha256

    if req.get("decision") != "risk_limit_change":
        return []
    change = req.get("policy_change")
    if not isinstance(change, dict) or not isinstance(change.get("after"), dict):
        return [f"approval {req['id']} (risk_limit_change) does not bind the change itself: request it again "
                "with --base REF"]
    now = {p.name: file_sha256(p) for p in sorted(root.policies_dir.glob("*.yaml"))}
    differ = sorted(f for f in set(now) | set(change["after"]) if now.get(f) != change["after"].get(f))
    if differ:
        return [f"the policies differ from the change signed in {req['id']}: {', '.join(differ)} "
                f"(signed: {len(change.get('changes') or [])} field(s) against {change.get('base')})"]
    return []


def signed_record(root: Root, doc: dict[str, Any], problems: list[str], *, operator: str | None,
                  clock: Clock) -> ApprovalRecord | None:
    """``verify_doc`` after the binding checks: its refusals are added to ``problems`` (every reason is
    reported at once), the record is None then."""
    try:
        return verify_doc(root, doc, requester=operator, clock=clock)
    except BlockedError as exc:
        problems += exc.details or [exc.message]
        return None


def check(root: Root, doc: dict[str, Any], *, subject: dict[str, Any] | None = None,
          frame: dict[str, Any] | None = None, token: str | None = None, operator: str | None = None,
          clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """The one verifier: binding (subject or frame, policies, exchange, stage, change, use), then signatures.

    Raises BlockedError naming every refusal; binds nothing."""
    problems = binding_problems(root, doc, subject=subject, frame=frame, token=token)
    record = signed_record(root, doc, problems, operator=operator, clock=clock)
    if problems or record is None:
        rid = doc["request"]["id"]
        # every reason in the message: the play's journal and the verifier both explain the whole answer
        text = "; ".join(dict.fromkeys(problems))
        raise BlockedError(text if problems[0].startswith(f"approval {rid}")
                           else f"approval {rid} ({doc['request']['decision']}) refused: {text}", details=problems)
    return record


def _bind(root: Root, doc: dict[str, Any], token: str, record: ApprovalRecord, clock: Clock) -> ApprovalRecord:
    """Record the one use in the desk state (atomic); the file's ``used_by`` is refreshed as a display copy."""
    from dataclasses import replace

    from peaktrade.desk import open_desk

    rid = record.request_id
    holder = open_desk(root).bind_approval(rid, by=token, at=utc_iso(clock.now()))
    if holder != token:
        raise BlockedError(f"approval {rid} was already used by {_who(holder)} (replay refused)")
    with _lock(root):
        fresh = load_request(root, rid)
        use = _use(root, rid)
        if fresh.get("used_by") != use:
            fresh["used_by"] = use
            _save(root, fresh)
    return remember(replace(record, play_id=token))


def verify_request(root: Root, request_id: str, *, decision: str, subject: dict[str, Any], token: str,
                   requester: str | None = None, clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """Verify one request for a non-playbook act (kill-switch release, stage promotion) and bind it."""
    doc = load_request(root, request_id)
    if doc["request"]["decision"] != decision:
        raise BlockedError(f"approval {request_id} is for {doc['request']['decision']}, not {decision}")
    record = check(root, doc, subject=subject, token=token, operator=requester, clock=clock)
    return _bind(root, doc, token, record, clock)


def candidates(root: Root, decision: str, playbook: str) -> list[dict[str, Any]]:
    return [d for d in list_requests(root)
            if d["request"].get("decision") == decision
            and (d["request"].get("subject") or {}).get("kind") == "playbook"
            and d["request"]["subject"].get("playbook") == playbook]


def find_for_play(root: Root, decision: str, *, frame: dict[str, Any], play_id: str | None,
                  operator: str | None, clock: Clock = SYSTEM_CLOCK) -> tuple[dict[str, Any], ApprovalRecord]:
    """The newest request that ``check`` accepts for this frame, or BlockedError with every reason."""
    playbook = frame["playbook"]
    docs = candidates(root, decision, playbook)
    if not docs:
        raise BlockedError(f"no {decision} approval request for playbook {playbook} (create one with "
                           f"'peaktrade approvals request --playbook {playbook} --decision {decision}')")
    reasons: list[str] = []
    for doc in docs:  # newest first; the first that verifies wins
        try:
            return doc, check(root, doc, frame=frame, token=play_id, operator=operator, clock=clock)
        except BlockedError as exc:
            reasons.append(exc.message)
    raise BlockedError(reasons[0] if len(reasons) == 1 else f"no valid {decision} approval for playbook "
                       f"{playbook} ({len(reasons)} requests refused): {reasons[0]}", details=reasons)


def verify_for_play(root: Root, decision: str, *, playbook: str, playbook_hash: str, params: dict[str, Any],
                    policies_hash: str, play_id: str, requester: str | None,
                    clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """The verified approval of ``decision`` for this play frame, bound to ``play_id``."""
    if not play_id:
        raise BlockedError(f"{decision} approvals are bound to a play: no play id given")
    frame = {"playbook": playbook, "playbook_hash": playbook_hash, "params": params}
    doc, record = find_for_play(root, decision, frame=frame, play_id=play_id, operator=requester, clock=clock)
    return _bind(root, doc, play_id, record, clock)
