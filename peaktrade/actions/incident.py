"""``incident.new``: open an incident report from a playbook (runbook 5.3 step 5, the incident runbooks)."""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action


@action("incident.new", effect="act", describe=lambda a: f"open a {a.get('severity')} incident report",
        description="Render a new, open incident report in reports/incidents/ and name it in the play.",
        schema={"type": "object", "additionalProperties": False, "required": ["severity"],
                "properties": {"severity": {"enum": ["low", "medium", "high"]},
                               "runbook": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                               "run_id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                               "title": {"type": "string"}}})
def incident_new(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    import secrets

    from peaktrade.playbook.render import render_new_incident

    runbook = args.get("runbook") or ctx.playbook or "manual"
    now = ctx.clock.now()
    incident_id = f"{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    path = render_new_incident(ctx.root, runbook=runbook, severity=args["severity"], run_id=args.get("run_id"),
                               title=args.get("title") or f"Incident during {runbook}",
                               date=now.strftime("%Y-%m-%d"), incident_id=incident_id,
                               play={"play_id": ctx.play_id, "operator": ctx.operator} if ctx.play_id else None)
    return ActionResult(True, f"incident report opened: {ctx.root.rel(path)}",
                        data={"path": ctx.root.rel(path), "incident_id": incident_id})
