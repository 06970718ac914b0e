"""Guards: kill switch, live gate, approvals, stages. Every policy module is imported lazily and,
where safety is involved, its absence blocks (fail closed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.errors import BlockedError, PeakTradeError

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext

APPROVALS_UNAVAILABLE = "approvals are not available"
LIVE_UNAVAILABLE = "live gate unavailable: approvals are not available"
STAGES = ("shadow", "testnet", "live")
_LIVE_FLAGS = ("--mode", "--stage")


def kill_switch_state(ctx: PlayContext) -> str:
    try:
        from peaktrade.policy.killswitch import KillSwitch
    except ImportError:
        # No kill switch installed means none can be engaged; say so in the journal.
        ctx.note_once("kill_switch", "kill switch module not available: treated as ACTIVE")
        return "ACTIVE"
    try:
        return str(KillSwitch(ctx.root, clock=ctx.clock).status().state)
    except Exception as exc:  # noqa: BLE001 - an unreadable kill switch must block, not pass
        return f"UNKNOWN ({exc})"


def live_reason(ctx: PlayContext, frame: Frame, *, with_: Any = None, argv: list[str] | None = None,
                live_sensitive: bool = False) -> str | None:
    """Why a step operates live (None if it does not)."""
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


def check_live_gate(ctx: PlayContext, what: str) -> str | None:
    """None when the live gate is open for this play, else the reason it is closed.

    In a dry run approvals are checked, never bound, so the gate cannot see them as verified: when
    the only missing half is a ``live_activation`` approval that the dry run found valid, the gate
    counts as open *for the dry run* (``dry_run_gate_note`` says so; the executor then runs no live
    step, not even a read one)."""
    try:
        from peaktrade.policy.gate import DECISION, require_live
    except ImportError:
        return LIVE_UNAVAILABLE
    try:
        require_live(ctx.root, approvals=ctx.approvals, what=what)
    except BlockedError as exc:
        missing = [m for m in exc.details if not m.startswith(f"no valid {DECISION} approval")]
        if ctx.dry_run and DECISION in ctx.dry_approvals and not missing and exc.details:
            return None
        return exc.message
    except Exception as exc:  # noqa: BLE001 - any failure of the gate keeps it closed
        return f"live gate could not be checked: {getattr(exc, 'message', exc)}"
    return None


def dry_run_gate_note(ctx: PlayContext) -> str:
    rec = ctx.dry_approvals.get("live_activation") or {}
    return (f"the live gate would open with approval {rec.get('request_id', '?')} "
            "(checked, not bound: dry run)")


def verify_approval(ctx: PlayContext, frame: Frame, decision: str) -> tuple[dict[str, Any] | None, str]:
    """(record, message): the verified approval of ``decision`` for this play, or None and why not."""
    try:
        from peaktrade.policy.approvals import verify_for_play
    except ImportError:
        return None, APPROVALS_UNAVAILABLE
    try:
        record = verify_for_play(
            ctx.root, decision, playbook=frame.playbook.name, playbook_hash=frame.playbook.sha256,
            params=frame.params, policies_hash=ctx.policies_hash, play_id=ctx.play_id, requester=ctx.operator,
        )
    except PeakTradeError as exc:
        return None, exc.message
    except Exception as exc:  # noqa: BLE001 - an approval that cannot be verified is no approval
        return None, f"approval {decision!r} could not be verified: {exc}"
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    ctx.approvals[decision] = data
    return data, f"approval {decision!r} verified"


def check_approval(ctx: PlayContext, frame: Frame, decision: str) -> tuple[dict[str, Any] | None, str]:
    """Dry run: (record, message) like ``verify_approval``, but the request is only checked, never bound
    to the play, so a dry run does not consume the approval the real play needs."""
    try:
        from peaktrade.policy.approvals import list_requests
        from peaktrade.policy.verify import _binding_problem, verify_doc
    except ImportError:
        return None, APPROVALS_UNAVAILABLE
    try:
        docs = [d for d in list_requests(ctx.root)
                if d["request"].get("decision") == decision
                and (d["request"].get("subject") or {}).get("kind") == "playbook"
                and d["request"]["subject"].get("playbook") == frame.playbook.name]
        if not docs:
            return None, (f"no {decision} approval request for playbook {frame.playbook.name} (create one with "
                          f"'peaktrade approvals request --playbook {frame.playbook.name} --decision {decision}')")
        reasons: list[str] = []
        for doc in docs:  # newest first, as in verify_for_play
            problem = _binding_problem(doc, frame.playbook.sha256, frame.params, ctx.policies_hash, ctx.play_id)
            if problem:
                reasons.append(problem)
                continue
            try:
                record = verify_doc(ctx.root, doc, requester=ctx.operator, clock=ctx.clock)
            except BlockedError as exc:
                reasons.append(exc.message)
                continue
            data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
            data["bound"] = False
            ctx.dry_approvals[decision] = data
            return data, f"approval {decision!r} valid: request {data.get('request_id')} (checked, not bound: dry run)"
    except PeakTradeError as exc:
        return None, exc.message
    except Exception as exc:  # noqa: BLE001 - an approval that cannot be checked is no approval
        return None, f"approval {decision!r} could not be checked: {exc}"
    return None, (reasons[0] if len(reasons) == 1 else f"no valid {decision} approval for playbook "
                  f"{frame.playbook.name} ({len(reasons)} requests refused): {reasons[0]}")


def _stage_at_least(ctx: PlayContext, wanted: str) -> tuple[bool, str]:
    try:
        from peaktrade.policy.stages import current_stage

        stage = current_stage(ctx.root)
    except ImportError:
        return False, "stages are not available: cannot confirm the current stage"
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
        check = check_approval if (ctx.dry_run or not bind) else verify_approval
        record, message = check(ctx, frame, value)
        if not bind and not ctx.dry_run:
            message = message.replace("(checked, not bound: dry run)",
                                      "(checked, not bound: an earlier guard refused the play)")
        return record is not None, message
    if kind == "live_gate":
        reason = check_live_gate(ctx, f"playbook {frame.playbook.name}")
        if reason is None and ctx.dry_run and not ctx.approvals:
            return True, dry_run_gate_note(ctx)
        return reason is None, reason or "live gate is open"
    return False, f"unknown guard {kind!r}"  # schema-checked already; unknown must not pass


# Cheap, non-consuming guards first; ``approval`` binds its request to the play, so it comes only after
# every guard that could still refuse the play; ``live_gate`` needs the approval to have been verified.
GUARD_ORDER = ("environment_mode", "kill_switch", "stage_at_least", "approval", "live_gate")


def _rank(guard: dict[str, Any]) -> int:
    ((kind, _),) = guard.items()
    return GUARD_ORDER.index(kind) if kind in GUARD_ORDER else -1  # unknown: refused first, nothing evaluated


def evaluate_guards(ctx: PlayContext, frame: Frame) -> str | None:
    """Evaluate every playbook-level guard in ``GUARD_ORDER`` and journal each; return the refusals (None =
    all pass). The operator learns everything that is missing at once, but an ``approval`` is only bound to
    the play when no earlier guard refused: otherwise it is checked without binding, and stays unused."""
    refusals: list[str] = []
    for guard in sorted(frame.playbook.guards, key=_rank):
        ((kind, value),) = guard.items()
        ok, message = _evaluate(ctx, frame, kind, value, bind=not refusals)
        ctx.journal.append("guard_evaluated", playbook=frame.playbook.name, frame=frame.path, guard=kind,
                           value=value, ok=ok, message=message)
        if not ok:
            where = f" ({frame.path})" if frame.path else ""
            ctx.echo(f"{'blocked':<10} guard {kind}{where} - {message}")
            refusals.append(f"guard {kind}: {message}")
    return "; ".join(refusals) or None
