"""``incident.notify``: a playbook informs people (seed 11.2: "Pause wegen Anomalie: Operator, dann Owner informieren").

The message goes out through the desk's notifiers (``peaktrade.alerts.notifiers``): the channels that
``policies/alerts.yaml`` names for its level, as configured in ``config/config.toml [notifiers]``,
and always ``logs/alerts.log``. Who is meant is named by role or name from ``policies/roles.yaml``
and written into the message, so the receiving channel (the owner's mailbox, the desk's chat) and
the log both say who was to be informed. It declares ``risk_reducing``: informing people stays
allowed while the kill switch is engaged (an emergency is exactly when the owner must hear of it).
"""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action
from peaktrade.alerts.rules import CRITICAL, WARNING, Alert
from peaktrade.errors import PeakTradeError


def _describe(args: dict[str, Any]) -> str:
    return f"inform {', '.join(args.get('to', []))} ({args.get('level', WARNING)}): {args.get('message', '')}"


def _recipients(ctx: ActionContext, wanted: list[str]) -> tuple[list[str], list[str]]:
    """(people named, entries of ``to`` that match no person or role of policies/roles.yaml)."""
    from peaktrade.policy.roles import load_roles

    try:
        people = load_roles(ctx.root).people
    except PeakTradeError:
        return [], list(wanted)
    found: list[str] = []
    unknown: list[str] = []
    for item in wanted:
        hits = [f"{p.name} ({item})" if item in p.roles else p.name
                for p in people.values() if item == p.name or item in p.roles]
        if hits:
            found += [h for h in hits if h not in found]
        else:
            unknown.append(item)
    return found, unknown


@action("incident.notify", effect="act", describe=_describe, risk_reducing=True,
        description="Inform people (by role or name from policies/roles.yaml) through the desk's notifiers.",
        schema={"type": "object", "additionalProperties": False, "required": ["to", "message"], "properties": {
            "to": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                   "description": "roles (owner, operator, risk_officer) or names of people"},
            "message": {"type": "string", "minLength": 1},
            "level": {"enum": [WARNING, CRITICAL], "default": WARNING,
                      "description": "selects the channels (policies/alerts.yaml channels.<level>)"},
            "run_id": {"type": "string"}}})
def notify_send(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.alerts.engine import raise_alert

    people, unknown = _recipients(ctx, list(args["to"]))
    if not people:
        return ActionResult(False, f"nobody to inform: {', '.join(unknown)} names no person or role of "
                                   f"policies/roles.yaml")
    where = f"play {ctx.play_id} ({ctx.playbook})" if ctx.play_id else "peaktrade"
    alert = Alert(f"playbook:{ctx.playbook or 'notify'}", args.get("level", WARNING),
                  f"to {', '.join(people)}: {args['message']} [{where}, operator {ctx.operator}]",
                  args.get("run_id", ""), {"to": people, "play_id": ctx.play_id, "playbook": ctx.playbook})
    deliveries = raise_alert(ctx.root, alert, ctx.clock)
    sent = [d.channel for d in deliveries if d.status == "sent"]
    reached = [c for c in sent if c != "log"]
    lines = [f"{d.channel}: {d.status}" + (f" ({d.error})" if d.error else "") for d in deliveries]
    data = {"to": people, "unknown": unknown, "deliveries": [d.to_dict() for d in deliveries]}
    note = f"; unknown: {', '.join(unknown)}" if unknown else ""
    if not reached:
        # logs/alerts.log alone informs nobody: say so, the playbook decides whether that stops it
        return ActionResult(False, f"{', '.join(people)} NOT informed: no channel beyond logs/alerts.log "
                                   f"delivered ({'; '.join(lines[1:]) or 'none enabled'}){note}",
                            "\n".join(lines), data)
    return ActionResult(True, f"informed {', '.join(people)} via {', '.join(reached)}{note}", "\n".join(lines), data)
