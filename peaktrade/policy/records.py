"""The verified approval record: what a guard, the live gate and the journal receive."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Signer:
    name: str
    roles: list[str]
    fingerprint: str  # SHA256:... of the key that made the signature


@dataclass(frozen=True)
class ApprovalRecord:
    """Produced only by ``peaktrade.policy.approvals`` after every signature verified.

    The live gate accepts nothing else as an approval: a dict, a string or a hand-made object
    in ``ActionContext.approvals`` never opens it.
    """

    decision: str
    request_id: str
    subject: dict[str, Any]
    requester: str
    signers: list[Signer]
    expires_at: datetime
    verified_at: datetime
    play_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from peaktrade.clock import utc_iso

        return {
            "decision": self.decision,
            "request_id": self.request_id,
            "subject": self.subject,
            "requester": self.requester,
            "signers": [asdict(s) for s in self.signers],
            "expires_at": utc_iso(self.expires_at),
            "verified_at": utc_iso(self.verified_at),
            "play_id": self.play_id,
        }


# Approvals verified in this process, by request id. The interpreter keeps ``record.to_dict()`` in
# ``ActionContext.approvals``; the gate accepts such a dict only if it is exactly the dict of a record
# verified here, so nothing a config, param, environment variable or flag can carry opens the gate.
_VERIFIED: dict[str, ApprovalRecord] = {}


def remember(record: ApprovalRecord) -> ApprovalRecord:
    _VERIFIED[record.request_id] = record
    return record


def lookup(value: object) -> ApprovalRecord | None:
    """The verified record ``value`` stands for (the record itself or its ``to_dict()``), else None."""
    if isinstance(value, ApprovalRecord):
        known = _VERIFIED.get(value.request_id)
        return value if known is value or known == value else None
    if isinstance(value, dict) and isinstance(value.get("request_id"), str):
        known = _VERIFIED.get(value["request_id"])
        if known is not None and known.to_dict() == value:
            return known
    return None
