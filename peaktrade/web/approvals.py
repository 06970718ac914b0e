"""Approval requests for the dashboard: status, the exact bytes to sign, the command that signs them,
and the signers' roles and key fingerprints (policies/roles.yaml)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from peaktrade.desk import open_desk
from peaktrade.errors import PeakTradeError
from peaktrade.policy import approvals as ap
from peaktrade.policy.roles import Roles, best_assignment, load_roles
from peaktrade.policy.sshsig import NAMESPACE
from peaktrade.redact import redact
from peaktrade.root import Root
from peaktrade.web.data import now_utc


def fingerprint(public_key: str) -> str:
    """``SHA256:…`` as ``ssh-keygen -l`` prints it (what a verified signature is recorded with)."""
    try:
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (IndexError, ValueError):
        return "unreadable key"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def signers(roles: Roles) -> list[dict[str, Any]]:
    return [{"name": p.name, "roles": p.roles, "keys": [{"type": k.split()[0], "fingerprint": fingerprint(k)}
                                                       for k in p.keys]} for p in roles.people.values()]


def _slots(doc: dict[str, Any], roles: Roles) -> dict[str, Any]:
    """Which of the decision's signer slots the signatures fill (requester excluded unless allowed)."""
    req = doc["request"]
    try:
        spec = roles.decision(req["decision"])
    except Exception:  # noqa: BLE001 - a decision no longer in roles.yaml: nothing can fill it
        return {"requires": [], "open": ["(decision not in policies/roles.yaml)"], "complete": False}
    names = [s.get("name") for s in doc["signatures"]]
    people = [roles.people[n] for n in names if n in roles.people
              and (spec.allow_requester or n != req.get("requester"))]
    filled, open_roles = best_assignment(spec.requires, people)
    return {"requires": spec.requires, "open": open_roles, "complete": not open_roles,
            "filled": [p.name if p else None for p in filled]}


def _row(root: Root, doc: dict[str, Any], roles: Roles) -> dict[str, Any]:
    """One listing row: what the file says, the desk's record of its use, and the slots its signatures
    fill. Not a verification (that is ``approvals verify``, run when a play binds it)."""
    req = doc["request"]
    try:
        used = open_desk(root).approval_use(req["id"]) or doc.get("used_by")
    except PeakTradeError:
        used = doc.get("used_by")
    slots = _slots(doc, roles)
    expired = now_utc() >= datetime.fromisoformat(str(req["expires_at"]).replace("Z", "+00:00"))
    status = (f"used by {used.get('by')}" if isinstance(used, dict) else "used" if used else
              "expired" if expired else "complete" if slots["complete"] else "pending")
    return {"id": req["id"], "decision": req["decision"], "subject": ap.describe_subject(req["subject"]),
            "requester": req.get("requester"), "created_at": req.get("created_at"),
            "expires_at": req.get("expires_at"), "signed_by": [s.get("name") for s in doc["signatures"]],
            "status": status, "slots": slots}


def requests(root: Root) -> dict[str, Any]:
    try:
        roles = load_roles(root)
    except Exception as exc:  # noqa: BLE001 - the page says why instead of failing
        return {"rows": [], "signers": [], "error": getattr(exc, "message", str(exc))}
    rows = [_row(root, doc, roles) for doc in ap.list_requests(root)]
    return {"rows": redact(rows), "signers": signers(roles), "error": ""}


def request(root: Root, request_id: str) -> dict[str, Any]:
    """Raises UsageError/BlockedError for an unknown id (a 404 for the page)."""
    doc = ap.load_request(root, request_id)
    roles = load_roles(root)
    row = _row(root, doc, roles)
    slots = row["slots"]
    text = ap.request_bytes(doc).decode("utf-8")
    return {"row": row, "slots": slots, "bytes": text, "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "command": f"ssh-keygen -Y sign -n {NAMESPACE} -f ~/.ssh/id_ed25519 {request_id}.json",
            "signatures": [{k: s.get(k) for k in ("name", "fingerprint", "signed_at")} for s in doc["signatures"]],
            "signers": signers(roles), "request": doc["request"]}


def upload(root: Root, request_id: str, name: str, signature: str) -> dict[str, Any]:
    """Verify and record an uploaded signature with the function ``approvals sign`` records with."""
    return ap.add_signature(root, request_id, name=name, signature=signature)
