"""Policy actions: risk limits and blocked orders, kill switch, stage, the live gate, the go-live order."""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action

_STAGE_OPT = {"type": "object", "additionalProperties": False,
              "properties": {"stage": {"enum": ["shadow", "testnet", "live"],
                                       "description": "default: the current stage"}}}
_NONE: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}


@action("risk.show", schema=_STAGE_OPT, effect="read",
        description="Effective risk limits of a stage, limits not set, contradictions between limits")
def risk_show(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.limits import consistency_warnings, load_risk_limits, render_limits
    from peaktrade.policy.stages import current_stage

    limits = load_risk_limits(ctx.root, args.get("stage") or current_stage(ctx.root))
    warnings = consistency_warnings(limits)
    enforced, not_set = limits.enforced(), limits.not_set()
    summary = f"risk limits for {limits.stage}: {len(enforced)} enforced"
    if not_set:
        summary += f", NOT enforced: {', '.join(not_set)}"
    if warnings:
        summary += f"; {len(warnings)} contradiction(s)"
    return ActionResult(True, summary, output=render_limits(limits, warnings),
                        data={"stage": limits.stage, "limits": enforced, "not_set": not_set, "warnings": warnings})


_BLOCKED = {"type": "object", "additionalProperties": False,
            "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20,
                                     "description": "How many of the latest blocked orders to show."}}}


@action("risk.blocked_orders", schema=_BLOCKED, effect="read",
        description="Find '[RISK] Order blocked' lines in logs/*.log and blocked orders in run events")
def risk_blocked_orders(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.blocked import find_blocked

    found = find_blocked(ctx.root)
    shown = found[-int(args.get("limit", 20)):]
    if not found:
        return ActionResult(True, "no blocked orders found in logs/ or live_runs/", data={"count": 0})
    limits = sorted({f["limit"] for f in found if f["limit"]})
    return ActionResult(True, f"{len(found)} blocked order(s); limits: {', '.join(limits) or 'unknown'}",
                        output="\n".join(f"{f['where']}: {f['text']}" for f in shown),
                        data={"count": len(found), "limits": limits, "latest": shown})


_EXPECT = {"type": "object", "additionalProperties": False,
           "properties": {"expect": {"enum": ["ACTIVE", "KILLED", "RECOVERING", "released", "engaged", "recovering"],
                                     "description": "fail unless the kill switch is in this state"}}}


@action("killswitch.status", schema=_EXPECT, effect="read", description="The kill switch's state")
def killswitch_status(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.killswitch import KillSwitch

    st = KillSwitch(ctx.root, ctx.clock).status()
    ok = args.get("expect") in (None, st.state, st.word)
    detail = "" if st.state == "ACTIVE" else f" since {st.since} by {st.by}: {st.reason}"
    if not st.readable:
        detail = f" ({st.reason})"
    return ActionResult(ok, f"kill switch {st.word}{detail}", data=st.to_dict())


_REASON = {"type": "object", "additionalProperties": False, "required": ["reason"],
           "properties": {"reason": {"type": "string", "minLength": 1}}}


@action("killswitch.engage", schema=_REASON, effect="act",
        description="Engage the kill switch (every session blocks new orders)",
        describe=lambda args: f"engage the kill switch: {args.get('reason')}")
def killswitch_engage(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.killswitch import KillSwitch

    st = KillSwitch(ctx.root, ctx.clock).engage(args["reason"], ctx.operator)
    return ActionResult(True, f"kill switch engaged by {st.by}: {st.reason}", data=st.to_dict())


@action("stage.status", schema=_NONE, effect="read", description="The current stage and the live switch")
def stage_status(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.stages import current_stage, load_stage_policy

    stage, policy = current_stage(ctx.root), load_stage_policy(ctx.root)
    return ActionResult(True, f"stage {stage}; live.enabled {str(policy.live_enabled).lower()}",
                        data={"stage": stage, "live_enabled": policy.live_enabled})


@action("live.gate_check", schema=_NONE, effect="read",
        description="Is the live gate open for this play (live.enabled and a verified live_activation)?")
def live_gate_check(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.gate import check_live_gate

    res = check_live_gate(ctx.root, approvals=ctx.approvals, clock=ctx.clock)
    return ActionResult(res.allowed, res.message, blocked=not res.allowed, data={"missing": res.missing})

