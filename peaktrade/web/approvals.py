"""Approval requests for the dashboard: status, the exact bytes to sign, the command that signs them,
and the signers' roles and key fingerprints (policies/roles.yaml)."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from peaktrade.errors import PeakTradeError
from peaktrade.policy import approvals as ap
from peaktrade.policy.roles import Roles, load_roles
from peaktrade.policy.sshsig import NAMESPACE
from peaktrade.policy.verifyview import status_row
from peaktrade.redact import redact
from peaktrade.root import Root


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


STATUS_TTL_S = 5.0  # each row runs ssh-keygen per signature: a page polled every 3 s re-verifies every 5 s
_STATUS: dict[str, tuple[float, tuple[Any, ...], dict[str, Any]]] = {}


def _row(root: Root, doc: dict[str, Any]) -> dict[str, Any]:
    """The listing row of ``approvals list``: ``verifyview.status_row``, the one verifier's answer (complete,
    pending, used, expired, void and why), re-computed when the request file changed or after STATUS_TTL_S."""
    rid = doc["request"]["id"]
    try:
        st = (ap.approvals_dir(root) / f"{rid}.json").stat()
        sig: tuple[Any, ...] = (st.st_size, st.st_mtime_ns)
    except OSError:
        sig = ()
    hit = _STATUS.get(f"{root.path}/{rid}")
    if hit is not None and hit[1] == sig and time.monotonic() - hit[0] < STATUS_TTL_S:
        return hit[2]
    try:
        row = status_row(root, doc)
    except PeakTradeError as exc:  # e.g. the desk state (where uses are recorded) is unreadable: say so
        req = doc["request"]
        return {"id": rid, "decision": req.get("decision"), "subject": ap.describe_subject(req.get("subject") or {}),
                "requester": req.get("requester"), "created_at": req.get("created_at"),
                "expires_at": req.get("expires_at"), "signed_by": [s.get("name") for s in doc["signatures"]],
                "status": "unknown", "reason": exc.message, "used_by": None}
    _STATUS[f"{root.path}/{rid}"] = (time.monotonic(), sig, row)
    return row


def requests(root: Root) -> dict[str, Any]:
    try:
        roles = load_roles(root)
    except Exception as exc:  # noqa: BLE001 - the page says why instead of failing
        return {"rows": [], "signers": [], "error": getattr(exc, "message", str(exc))}
    rows = [_row(root, doc) for doc in ap.list_requests(root)]
    return {"rows": redact(rows), "signers": signers(roles), "error": ""}


def request(root: Root, request_id: str) -> dict[str, Any]:
    """Raises UsageError/BlockedError for an unknown id (a 404 for the page)."""
    doc = ap.load_request(root, request_id)
    roles = load_roles(root)
    row = _row(root, doc)
    text = ap.request_bytes(doc).decode("utf-8")
    try:
        requires = roles.decision(doc["request"]["decision"]).describe()
    except PeakTradeError:
        requires = "(decision not in policies/roles.yaml)"
    return {"row": redact(row), "requires": requires, "bytes": text,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "command": f"ssh-keygen -Y sign -n {NAMESPACE} -f ~/.ssh/id_ed25519 {request_id}.json",
            "signatures": [{k: s.get(k) for k in ("name", "fingerprint", "signed_at")} for s in doc["signatures"]],
            "signers": signers(roles), "request": doc["request"]}


def upload(root: Root, request_id: str, name: str, signature: str) -> dict[str, Any]:
    """Verify and record an uploaded signature with the function ``approvals sign`` records with."""
    doc = ap.add_signature(root, request_id, name=name, signature=signature)
    _STATUS.pop(f"{root.path}/{request_id}", None)
    return doc
