"""The stage model (policies/stages.yaml) and the desk's recorded stage.

The recorded stage lives in the desk state (meta key ``stage``), written only by ``stage promote`` after
its evidence, checklist and signed approval; it is not an editable file. A ``var/stage.json`` of an
older release is not read: a desk that had promoted itself promotes again through the approval flow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from peaktrade.errors import UsageError
from peaktrade.root import Root

STAGES = ("shadow", "testnet", "live")
# run ids start with the mode; shadow runs are paper runs named "shadow_..."
_RUN_PREFIX = {"shadow": "shadow_", "testnet": "testnet_", "live": "live_"}


@dataclass(frozen=True)
class Transition:
    from_stage: str
    to_stage: str
    decision: str
    checklist: list[str]
    min_days_in_previous_stage: int = 0
    min_runs_in_previous_stage: int = 0


@dataclass(frozen=True)
class StagePolicy:
    initial_stage: str
    live_enabled: bool
    release_cooldown_minutes: float
    transitions: list[Transition] = field(default_factory=list)

    def transition(self, from_stage: str, to_stage: str) -> Transition:
        for t in self.transitions:
            if t.from_stage == from_stage and t.to_stage == to_stage:
                return t
        allowed = [t.to_stage for t in self.transitions if t.from_stage == from_stage]
        raise UsageError(f"no transition {from_stage} -> {to_stage} in policies/stages.yaml"
                         + (f" (from {from_stage}: {', '.join(allowed)})" if allowed else ""))


def load_stage_policy(root: Root) -> StagePolicy:
    from peaktrade.policy.files import load_policy

    data = load_policy(root, "stages")
    transitions = [
        Transition(t["from"], t["to"], t["decision"], list(t["checklist"]),
                   int(t.get("min_days_in_previous_stage", 0)), int(t.get("min_runs_in_previous_stage", 0)))
        for t in data["transitions"]
    ]
    return StagePolicy(
        initial_stage=data["initial_stage"],
        live_enabled=data["live"]["enabled"] is True,
        release_cooldown_minutes=float(data.get("kill_switch", {}).get("release_cooldown_minutes", 15)),
        transitions=transitions,
    )


STAGE_KEY = "stage"


def read_stage_record(root: Root) -> dict[str, Any] | None:
    """The recorded stage (stage, since, by, request_id, history) from the desk state, or None if never promoted."""
    from peaktrade.desk import open_desk

    text = open_desk(root).meta(STAGE_KEY)
    if text is None:
        return None
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"the desk state's stage record is unreadable: {exc}") from None
    if not isinstance(record, dict) or record.get("stage") not in STAGES:
        raise UsageError(f"the desk state's stage record does not name a stage of {list(STAGES)}")
    return record


def write_stage_record(root: Root, record: dict[str, Any]) -> None:
    """Only ``promote`` calls this, after evidence, checklist and the signed approval."""
    from peaktrade.desk import open_desk

    open_desk(root).set_meta(STAGE_KEY, json.dumps(record, sort_keys=True))


def current_stage(root: Root) -> str:
    """The stage this deployment is in: the last recorded promotion, else the policy's initial stage."""
    record = read_stage_record(root)
    if record is not None:
        return record["stage"]
    return load_stage_policy(root).initial_stage


def runs_in_stage(root: Root, stage: str) -> int:
    prefix = _RUN_PREFIX[stage]
    if not root.live_runs_dir.is_dir():
        return 0
    return sum(1 for p in root.live_runs_dir.iterdir() if p.is_dir() and p.name.startswith(prefix))
