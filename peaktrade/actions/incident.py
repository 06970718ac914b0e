"""``incident.new``: open an incident report from a playbook (runbook 5.3 step 5, the incident runbooks)."""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action
from peaktrade.playbook.evidence import incident_facts
from peaktrade.playbook.journal import journal_path, read_records


@action("incident.new", effect="act", describe=lambda a: f"open a {a.get('severity')} incident report",
        description="Render a new, open incident report in reports/incidents/ and name it in the play.",
        schema={"type": "object", "additionalProperties": False, "required": ["severity"],
                "properties": {"severity": {"enum": ["low", "medium", "high"]},
                               "runbook": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                               "run_id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                               "title": {"type": "string"},
                               "reason": {"type": "string", "description": "why (the play's reason param)"}}})
def incident_new(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    import secrets

    from peaktrade.playbook.render import render_new_incident

    runbook = args.get("runbook") or ctx.playbook or "manual"
    facts = _play_facts(ctx)
    if args.get("reason"):
        facts["reason"] = args["reason"]
    now = ctx.clock.now()
    incident_id = f"{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    path = render_new_incident(ctx.root, runbook=runbook, severity=args["severity"], run_id=args.get("run_id"),
                               title=args.get("title") or f"Incident during {runbook}",
                               date=now.strftime("%Y-%m-%d"), incident_id=incident_id,
                               play={"play_id": ctx.play_id, "operator": ctx.operator} if ctx.play_id else None,
                               facts=facts)
    return ActionResult(True, f"incident report opened: {ctx.root.rel(path)} (id {incident_id})",
                        data={"path": ctx.root.rel(path), "incident_id": incident_id})


def _play_facts(ctx: ActionContext) -> dict[str, Any]:
    """What the running play did so far (its journal): the report is prefilled with it."""
    if not ctx.play_id:
        return {}
    path = journal_path(ctx.root.plays_dir, ctx.play_id)
    if not path.is_file():
        return {}
    facts = incident_facts(read_records(path))
    facts.pop("failure_step", None)  # a report opened on purpose is no failure to deduplicate
    return facts


@action("killswitch.await_release", effect="read",
        description="Pass when the kill switch is released; otherwise end the play blocked, naming the release "
                    "command (an incident branch that engaged the switch ends here until two people release it).",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "then": {"type": "string", "description": "what to run after the release (shown to the operator)"}}})
def killswitch_await_release(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.policy.killswitch import KillSwitch

    status = KillSwitch(ctx.root, clock=ctx.clock).status()
    data = {"state": str(status.state), "since": status.since, "by": status.by}
    if str(status.state) == "ACTIVE":
        return ActionResult(True, "kill switch released", data=data)
    then = f"; then {args['then']}" if args.get("then") else ""
    steps = ["peaktrade approvals request --decision kill_switch_release --kill-switch",
             "peaktrade approvals sign <request id> --as <owner> --key <key>   (and one other person)",
             "peaktrade kill-switch release"]
    what = "recovering (cooldown)" if str(status.state) == "RECOVERING" else f"engaged since {status.since}"
    return ActionResult(False, f"awaiting kill-switch release (kill switch {what}): request and sign a "
                               f"kill_switch_release approval (owner + one other person), then "
                               f"`peaktrade kill-switch release`{then}",
                        "\n".join(steps), data, blocked=True)
