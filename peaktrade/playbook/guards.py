"""Guards: kill switch, live gate, approvals, stages. Every check that cannot be made blocks (fail closed);
the policy modules are imported at the top: a missing one is a bug, never an open gate.

Approvals are scoped to the frame they were verified in: ``ctx.approvals`` maps a frame path to that
frame's ``{decision: record}``, and the live gate of a step sees only its own frame's approvals, checked
against the frame's playbook name, hash and params. A sub-run's approval never reaches its parent or a
sibling. A play that binds an approval or acts live needs an operator who proved who they are
(``require_identity``: their key, or ssh-agent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.errors import BlockedError, PeakTradeError
from peaktrade.policy.approvals import verify_for_play
from peaktrade.policy.gate import DECISION, require_live
from peaktrade.policy.stages import current_stage
from peaktrade.policy.verify import find_for_play

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext

STAGES = ("shadow", "testnet", "live")
_LIVE_FLAGS = ("--mode", "--stage")


def kill_switch_state(ctx: PlayContext) -> str:
    """ACTIVE, KILLED or RECOVERING from the one fail-closed read (an unreadable switch reads KILLED)."""
    return read_kill_switch(ctx.root, ctx.clock).state


def live_reason(ctx: PlayContext, frame: Frame, *, with_: Any = None, argv: list[str] | None = None,
                live_sensitive: bool = False) -> str | None:
    """Why a step operates live (None if it does not)."""
    if argv is not None and ctx.mode == "live":
        # a command can reach live in ways no argv scan sees (a script, a config, an env variable)
        return "a run: step while environment.mode is live"
    if frame.playbook.stage == "live":
        return f"playbook {frame.playbook.name!r} has stage live"
    if isinstance(with_, dict):
        for key in ("mode", "stage"):
            if with_.get(key) == "live":
                return f"its arguments say {key}: live"
    if live_sensitive and ctx.mode == "live":
        return "a live-sensitive action while environment.mode is live"
    for i, item in enumerate(argv or []):
        for flag in _LIVE_FLAGS:
            if item == f"{flag}=live" or (item == flag and i + 1 < len(argv or []) and argv[i + 1] == "live"):
                return f"its command says {flag} live"
    return None


def frame_approvals(ctx: PlayContext, frame: Frame | None) -> dict[str, Any]:
    """The approvals verified in ``frame`` itself (never its parent's or a sibling's)."""
    if frame is None:
        return {}
    return ctx.approvals.get(frame.path, {})


def frame_of(frame: Frame) -> dict[str, Any]:
    return {"playbook": frame.playbook.name, "playbook_hash": frame.playbook.sha256, "params": frame.params}


def require_identity(ctx: PlayContext) -> str | None:
    """None once the operator proved who they are (their key or ssh-agent, checked against roles.yaml)."""
    if ctx.dry_run or ctx.identity is not None:
        return None
    try:
        from peaktrade.hashing import canonical_json
        from peaktrade.policy.identity import prove

        data = canonical_json({"purpose": "operator identity", "play_id": ctx.play_id,
                               "operator": ctx.operator}).encode("utf-8")
        proof = prove(ctx.root, ctx.operator, data, ctx.operator_key, what="operator")
    except PeakTradeError as exc:
        return f"the operator must prove who they are: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - an identity that cannot be proven is not proven
        return f"the operator's identity could not be checked: {exc}"
    ctx.identity = {"name": proof.name, "fingerprint": proof.fingerprint}
    ctx.journal.append("operator_identified", operator=proof.name, fingerprint=proof.fingerprint,
                       signature=proof.signature)
    return None


def check_live_gate(ctx: PlayContext, what: str, frame: Frame | None = None, *,
                    candidate: bool = False) -> str | None:
    """None when the live gate is open for ``frame`` of this play, else the reason it is closed.

    In a dry run (or with ``candidate``: an approval checked but not yet bound because the guards are
    still being evaluated) approvals are checked, never bound, so the gate cannot see them as verified:
    when the only missing half is a ``live_activation`` approval that was found valid for this frame,
    the gate counts as open *for that check* (the executor runs no live step in a dry run)."""
    try:
        require_live(ctx.root, approvals=frame_approvals(ctx, frame), what=what, clock=ctx.clock,
                     frame=frame_of(frame) if frame is not None else None)
    except BlockedError as exc:
        missing = [m for m in exc.details if not m.startswith(f"no valid {DECISION} approval")]
        checked = ctx.dry_approvals.get(frame.path if frame is not None else None, {})
        if (ctx.dry_run or candidate) and DECISION in checked and not missing and exc.details:
            return None
        return exc.message
    except Exception as exc:  # noqa: BLE001 - any failure of the gate keeps it closed
        return f"live gate could not be checked: {getattr(exc, 'message', exc)}"
    if not ctx.dry_run:
        return require_identity(ctx)
    return None


def dry_run_gate_note(ctx: PlayContext) -> str:
    recs = [r for frame in ctx.dry_approvals.values() for d, r in frame.items() if d == "live_activation"]
    rec = recs[0] if recs else {}
    return (f"the live gate would open with approval {rec.get('request_id', '?')} "
            "(checked, not bound: dry run)")


def verify_approval(ctx: PlayContext, frame: Frame, decision: str) -> tuple[dict[str, Any] | None, str]:
    """(record, message): the verified approval of ``decision`` for this frame, bound to the play."""
    checked, why = check_approval(ctx, frame, decision, "pending")
    if checked is None:  # what is missing about the approval itself is said first
        return None, why
    who = require_identity(ctx)
    if who:
        return None, who
    try:
        record = verify_for_play(
            ctx.root, decision, playbook=frame.playbook.name, playbook_hash=frame.playbook.sha256,
            params=frame.params, policies_hash=ctx.policies_hash, play_id=ctx.play_id, requester=ctx.operator,
            clock=ctx.clock,
        )
    except PeakTradeError as exc:
        return None, exc.message
    except Exception as exc:  # noqa: BLE001 - an approval that cannot be verified is no approval
        return None, f"approval {decision!r} could not be verified: {exc}"
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    ctx.approvals.setdefault(frame.path, {})[decision] = data
    return data, f"approval {decision!r} verified: request {data.get('request_id')}, bound to this play"


def check_approval(ctx: PlayContext, frame: Frame, decision: str,
                   why: str = "dry run") -> tuple[dict[str, Any] | None, str]:
    """(record, message) like ``verify_approval`` (the very same check), but the request is not bound."""
    try:
        _, record = find_for_play(ctx.root, decision, frame=frame_of(frame), play_id=ctx.play_id,
                                  operator=ctx.operator, clock=ctx.clock)
    except PeakTradeError as exc:
        return None, exc.message
    except Exception as exc:  # noqa: BLE001 - an approval that cannot be checked is no approval
        return None, f"approval {decision!r} could not be checked: {exc}"
    data = record.to_dict()
    data["bound"] = False
    ctx.dry_approvals.setdefault(frame.path, {})[decision] = data
    return data, f"approval {decision!r} valid: request {data.get('request_id')} (checked, not bound: {why})"


def _stage_at_least(ctx: PlayContext, wanted: str) -> tuple[bool, str]:
    try:
        stage = current_stage(ctx.root)
    except Exception as exc:  # noqa: BLE001
        return False, f"current stage could not be read: {getattr(exc, 'message', exc)}"
    if stage not in STAGES or STAGES.index(stage) < STAGES.index(wanted):
        return False, f"current stage is {stage}, this playbook needs at least {wanted}"
    return True, f"current stage {stage} >= {wanted}"


def _evaluate(ctx: PlayContext, frame: Frame, kind: str, value: Any, *, bind: bool = True) -> tuple[bool, str]:
    if kind == "environment_mode":
        allowed = value if isinstance(value, list) else [value]
        ok = ctx.mode in allowed
        return ok, f"environment.mode is {ctx.mode}" + ("" if ok else f", this playbook needs {' or '.join(allowed)}")
    if kind == "kill_switch":
        state = kill_switch_state(ctx)
        return state == "ACTIVE", f"kill switch is {state}"
    if kind == "stage_at_least":
        return _stage_at_least(ctx, value)
    if kind == "approval":
        why = "dry run" if ctx.dry_run else "an earlier guard refused the play" if not bind else "pending"
        record, message = check_approval(ctx, frame, value, why)
        return record is not None, message
    if kind == "live_gate":
        reason = check_live_gate(ctx, f"playbook {frame.playbook.name}", frame, candidate=True)
        if reason is None and ctx.dry_run:
            return True, dry_run_gate_note(ctx)
        return reason is None, reason or "live gate is open (with the approval checked above)"
    return False, f"unknown guard {kind!r}"  # schema-checked already; unknown must not pass


# Cheap, non-consuming guards first; ``approval`` is checked (never bound) in order, the live gate
# counts an approval so checked; only when every guard passed is the approval bound to the play.
GUARD_ORDER = ("environment_mode", "kill_switch", "stage_at_least", "approval", "live_gate")


def _rank(guard: dict[str, Any]) -> int:
    ((kind, _),) = guard.items()
    return GUARD_ORDER.index(kind) if kind in GUARD_ORDER else -1  # unknown: refused first, nothing evaluated


def evaluate_guards(ctx: PlayContext, frame: Frame) -> str | None:
    """Evaluate every playbook-level guard in ``GUARD_ORDER`` and journal each; return the refusals (None =
    all pass). The operator learns everything that is missing at once. An ``approval`` is checked in
    order and bound to the play only after every guard passed (the operator's identity proven first),
    so a play refused by any guard — the live gate included — consumes no approval."""
    refusals: list[str] = []
    approvals: list[str] = []
    for guard in sorted(frame.playbook.guards, key=_rank):
        ((kind, value),) = guard.items()
        ok, message = _evaluate(ctx, frame, kind, value, bind=not refusals)
        if kind == "approval" and ok and not ctx.dry_run and not refusals:
            approvals.append(value)
            message = message.replace("(checked, not bound: pending)", "(checked; bound once every guard passed)")
        _journal_guard(ctx, frame, kind, value, ok, message, refusals)
    if not refusals:
        for decision in approvals:
            record, message = verify_approval(ctx, frame, decision)
            if record is None:
                _journal_guard(ctx, frame, "approval", decision, False, message, refusals)
            else:
                ctx.journal.append("approval_bound", playbook=frame.playbook.name, frame=frame.path,
                                   decision=decision, request_id=record.get("request_id"), play_id=ctx.play_id,
                                   record=record)
    return "; ".join(refusals) or None


def _journal_guard(ctx: PlayContext, frame: Frame, kind: str, value: Any, ok: bool, message: str,
                   refusals: list[str]) -> None:
    ctx.journal.append("guard_evaluated", playbook=frame.playbook.name, frame=frame.path, guard=kind,
                       value=value, ok=ok, message=message)
    if not ok:
        where = f" ({frame.path})" if frame.path else ""
        ctx.echo(f"{'blocked':<10} guard {kind}{where} - {message}")
        refusals.append(f"guard {kind}: {message}")
