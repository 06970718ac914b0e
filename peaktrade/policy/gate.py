"""The live gate (DESIGN 5): live only if ``live.enabled`` AND a verified ``live_activation`` approval.

Both halves are checked every time, and the message names each one that is missing. Anything that
cannot be read (policy file missing or invalid) counts as "not enabled": the gate fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peaktrade.errors import BlockedError, PeakTradeError
from peaktrade.root import Root

DECISION = "live_activation"


@dataclass(frozen=True)
class GateResult:
    allowed: bool
    missing: list[str] = field(default_factory=list)
    message: str = ""


def _live_enabled(root: Root) -> tuple[bool, str]:
    try:
        from peaktrade.policy.stages import load_stage_policy

        return load_stage_policy(root).live_enabled, ""
    except PeakTradeError as exc:
        return False, f" ({exc.message})"
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong reading the switch, it stays off
        return False, f" (policies/stages.yaml unreadable: {type(exc).__name__})"


def _approved(approvals: Any, clock) -> tuple[bool, str]:
    from peaktrade.policy.records import lookup

    given = approvals.get(DECISION) if isinstance(approvals, dict) else None
    if given is None:
        return False, ""
    record = lookup(given)
    if record is None or record.decision != DECISION:
        return False, " (the record given is not a verified approval)"
    if clock.now() >= record.expires_at:
        return False, f" (approval {record.request_id} expired)"
    return True, ""


def check_live_gate(root: Root, *, approvals: dict, clock: Any = None) -> GateResult:
    from peaktrade.clock import SYSTEM_CLOCK

    enabled, why_enabled = _live_enabled(root)
    approved, why_approved = _approved(approvals, clock or SYSTEM_CLOCK)
    missing = []
    if not enabled:
        missing.append(f"live.enabled is not true in policies/stages.yaml{why_enabled}")
    if not approved:
        missing.append(f"no valid {DECISION} approval for this play{why_approved}")
    if not missing:
        return GateResult(True, [], "live gate open")
    return GateResult(False, missing, "live gate closed: " + "; ".join(missing))


def require_live(root: Root, *, approvals: dict, what: str, clock: Any = None) -> None:
    """Raise BlockedError (exit 3) naming ``what`` and each missing half unless the gate is open."""
    result = check_live_gate(root, approvals=approvals, clock=clock)
    if not result.allowed:
        raise BlockedError(f"{what} blocked: {result.message}", details=result.missing)
