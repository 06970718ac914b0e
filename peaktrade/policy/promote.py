"""`peaktrade stage promote`: evidence, approval, the rendered checklist, then the new stage recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import BlockedError, UsageError
from peaktrade.policy.stages import (
    STAGES,
    Transition,
    current_stage,
    load_stage_policy,
    read_stage_record,
    runs_in_stage,
    write_stage_record,
)
from peaktrade.root import Root

TEMPLATE = Path(__file__).parent / "templates" / "stage_transition.md.j2"


@dataclass(frozen=True)
class Evidence:
    name: str
    required: Any
    found: Any
    ok: bool


def _stage_since(root: Root, stage: str) -> datetime | None:
    """When this deployment entered ``stage``: the stage record, else its earliest run of that stage."""
    record = read_stage_record(root)
    if record is not None and record.get("stage") == stage and record.get("since"):
        return datetime.fromisoformat(record["since"].replace("Z", "+00:00"))
    from peaktrade.policy.stages import _RUN_PREFIX

    prefix = _RUN_PREFIX[stage]
    stamps = []
    if root.live_runs_dir.is_dir():
        for p in root.live_runs_dir.iterdir():
            parts = p.name.split("_")
            if p.name.startswith(prefix) and len(parts) == 4:
                try:
                    stamps.append(datetime.strptime(parts[1] + parts[2], "%Y%m%d%H%M%S"))
                except ValueError:
                    continue
    if not stamps:
        return None
    from datetime import UTC

    return min(stamps).replace(tzinfo=UTC)


def evidence(root: Root, t: Transition, clock: Clock = SYSTEM_CLOCK) -> list[Evidence]:
    since = _stage_since(root, t.from_stage)
    days = (clock.now() - since).total_seconds() / 86400 if since else 0.0
    runs = runs_in_stage(root, t.from_stage)
    return [
        Evidence(f"days in {t.from_stage}", t.min_days_in_previous_stage,
                 f"{days:.1f}" + ("" if since else " (no record of entering it)"),
                 days >= t.min_days_in_previous_stage),
        Evidence(f"runs in {t.from_stage}", t.min_runs_in_previous_stage, runs, runs >= t.min_runs_in_previous_stage),
    ]


def next_transition(root: Root) -> Transition | None:
    cur = current_stage(root)
    policy = load_stage_policy(root)
    return next((t for t in policy.transitions if t.from_stage == cur), None)


def promotion_subject(root: Root, to: str) -> dict[str, Any]:
    """What a stage promotion approval signs: from, to, and the transition's checklist items themselves, so
    the signers (two persons) attest the checklist; the operator's --yes alone never does."""
    cur = current_stage(root)
    t = load_stage_policy(root).transition(cur, to)
    return {"kind": "stage_promotion", "from": cur, "to": to, "checklist": list(t.checklist)}


def promote(root: Root, to: str, *, operator: str, request_id: str | None,
            confirm: Callable[[str], bool], clock: Clock = SYSTEM_CLOCK, via_yes: bool = False,
            key: str | None = None) -> dict[str, Any]:
    """``confirm(item)`` asks the operator about each checklist item; one "no" blocks the promotion. The
    items are also signed, as part of the approval's subject, by the approval's signers."""
    from peaktrade.fsutil import atomic_write_text
    from peaktrade.hashing import policies_hash
    from peaktrade.policy.approvals import list_requests, load_request, verify_request
    from peaktrade.templating import render_template_file

    if to not in STAGES:
        raise UsageError(f"--to {to!r}: one of {', '.join(STAGES)}")
    cur = current_stage(root)
    policy = load_stage_policy(root)
    t = policy.transition(cur, to)
    ev = evidence(root, t, clock)
    missing = [f"{e.name}: {e.found} (needs {e.required})" for e in ev if not e.ok]
    if missing:
        raise BlockedError(f"promotion {cur} -> {to} blocked: evidence missing: {'; '.join(missing)}", details=missing)
    declined = [item for item in t.checklist if not confirm(item)]
    if declined:
        raise BlockedError(f"promotion {cur} -> {to} blocked: checklist item not confirmed: {declined[0]}",
                           details=declined)
    subject = promotion_subject(root, to)
    if request_id is None:
        found = [d for d in list_requests(root)
                 if d["request"]["decision"] == t.decision and d["request"]["subject"] == subject]
        if not found:
            raise BlockedError(f"promotion {cur} -> {to} needs a {t.decision} approval",
                               details=[f"peaktrade approvals request --decision {t.decision} --stage-to {to}",
                                        "then: peaktrade approvals sign REQUEST_ID --as NAME --key KEY"])
        request_id = found[0]["request"]["id"]
    from peaktrade.hashing import canonical_json
    from peaktrade.policy.identity import prove
    from peaktrade.policy.verify import check

    # the approval is checked first (its refusal is the useful message), then the operator proves who
    # they are with their key, and only then is the approval bound
    check(root, load_request(root, request_id), subject=subject, token=f"stage-promotion {cur}->{to}",
          operator=operator, clock=clock)
    proof = prove(root, operator, canonical_json({"purpose": "stage promotion", "request_id": request_id,
                                                  "from": cur, "to": to}).encode("utf-8"), key)
    record = verify_request(root, request_id, decision=t.decision, subject=subject,
                            token=f"stage-promotion {cur}->{to}", requester=operator, clock=clock)
    now = clock.now()
    text = render_template_file(TEMPLATE, {
        "transition": t, "evidence": ev, "approval": record.to_dict(), "operator": operator, "via_yes": via_yes,
        "operator_key": proof.fingerprint,
        "date": utc_iso(now), "root": str(root.path), "policies_hash": policies_hash(root),
        "live_enabled": policy.live_enabled})
    checklist = root.checklists_dir / f"{now:%Y-%m-%d}_stage-promotion_{cur}-to-{to}_{record.request_id}.md"
    atomic_write_text(checklist, text)
    previous = read_stage_record(root) or {"stage": cur, "history": []}
    entry = {"stage": to, "since": utc_iso(now), "by": operator, "by_key": proof.fingerprint, "from": cur,
             "request_id": record.request_id,
             "checklist": root.rel(checklist)}
    history = [*previous.get("history", []), entry]
    write_stage_record(root, {**entry, "history": history})
    return {**entry, "live_enabled": policy.live_enabled, "approval": record.to_dict()}
