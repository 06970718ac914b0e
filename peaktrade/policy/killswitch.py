"""The kill switch (DESIGN 5): ACTIVE -> KILLED -> RECOVERING -> ACTIVE, persisted in var/.

* ``engage`` (anyone, reason required): KILLED at once, from any state.
* ``release`` needs a verified ``kill_switch_release`` approval bound to *this* engagement (its
  ``since`` timestamp), so an approval for an earlier engagement cannot be replayed: -> RECOVERING.
* RECOVERING becomes ACTIVE by itself once ``release_cooldown_minutes`` (policies/stages.yaml)
  have passed. While KILLED or RECOVERING the risk engine reports HALTED and blocks every order.

The state file is written atomically; an unreadable or corrupt file reads as KILLED (fail closed).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import BlockedError, UsageError
from peaktrade.root import Root

STATES = ("ACTIVE", "KILLED", "RECOVERING")
DECISION = "kill_switch_release"


@dataclass(frozen=True)
class KillSwitchStatus:
    state: str
    reason: str | None = None
    since: str | None = None  # ISO UTC of the last state change
    by: str | None = None
    recovering_until: str | None = None
    engaged_since: str | None = None  # the engagement a release approval must be bound to

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


class KillSwitch:
    def __init__(self, root: Root, clock: Clock = SYSTEM_CLOCK):
        self.root = root
        self.clock = clock
        self.path = root.var_dir / "kill-switch.json"
        self.events = root.var_dir / "kill-switch-events.jsonl"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"state": "ACTIVE"}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("state") not in STATES:
                raise ValueError("no valid state")
            return data
        except (OSError, ValueError) as exc:
            return {"state": "KILLED", "reason": f"kill-switch state file unreadable ({exc}); failing closed",
                    "corrupt": True}

    def status(self) -> KillSwitchStatus:
        data = self._read()
        state = data["state"]
        if state == "RECOVERING" and data.get("recovering_until"):
            if self.clock.now() >= _parse(data["recovering_until"]):
                return KillSwitchStatus("ACTIVE", data.get("reason"), data["recovering_until"], data.get("by"))
        return KillSwitchStatus(state, data.get("reason"), data.get("since"), data.get("by"),
                                data.get("recovering_until"), data.get("engaged_since"))

    def _write(self, data: dict[str, Any], event: str) -> None:
        from peaktrade.fsutil import append_line, atomic_write_text
        from peaktrade.hashing import canonical_json
        from peaktrade.redact import redact, redact_text

        data = redact(data)
        atomic_write_text(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        append_line(self.events, canonical_json({"event": event, **data}))
        line = f"{data['since']} kill-switch {event} by {data.get('by')}: {data.get('reason') or ''}".rstrip(": ")
        append_line(self.root.operations_log, redact_text(line))

    def engage(self, reason: str, operator: str) -> KillSwitchStatus:
        if not reason or not reason.strip():
            raise UsageError("kill-switch engage needs a reason (--reason)")
        now = utc_iso(self.clock.now())
        self._write({"state": "KILLED", "reason": reason.strip(), "since": now, "by": operator,
                     "engaged_since": now}, "engaged")
        return self.status()

    def release(self, operator: str, approval: Any) -> KillSwitchStatus:
        """KILLED -> RECOVERING with a verified approval bound to the current engagement."""
        from peaktrade.policy.records import lookup
        from peaktrade.policy.stages import load_stage_policy

        current = self.status()
        if current.state != "KILLED":
            raise UsageError(f"kill switch is {current.state}, not KILLED: nothing to release")
        if self._read().get("corrupt"):
            raise BlockedError("kill-switch state file is unreadable; repair var/kill-switch.json by hand")
        approval = lookup(approval)
        if approval is None or approval.decision != DECISION:
            raise BlockedError(f"kill-switch release needs a verified {DECISION} approval")
        bound = approval.subject.get("engaged_since")
        if approval.subject.get("kind") != "kill_switch" or bound != current.engaged_since:
            raise BlockedError(f"approval {approval.request_id} is for the engagement of {bound}, "
                               f"not the current one of {current.engaged_since}")
        cooldown = load_stage_policy(self.root).release_cooldown_minutes
        now = self.clock.now()
        self._write({"state": "RECOVERING", "reason": current.reason, "since": utc_iso(now), "by": operator,
                     "engaged_since": current.engaged_since, "request_id": approval.request_id,
                     "recovering_until": utc_iso(now + timedelta(minutes=cooldown))}, "released")
        return self.status()
