"""Signed two-person approvals (DESIGN 7).

A request (``var/approvals/<id>.json``) binds a decision to one subject — a playbook (name, file hash,
params with defaults applied), a kill-switch engagement or a stage promotion — plus the policies hash,
the hash of the config's ``[exchange]`` section (exchange id, account, credential variable names), the
desk stage, the requester and an expiry; a ``risk_limit_change`` also binds the policy change itself
(file hashes before and after, the changed fields as ``policy diff`` classifies them). The requester
signs it with their key when creating it; each approver signs the canonical bytes of the ``request``
object with ``ssh-keygen -Y sign -n peaktrade``. It is valid only when every required role is filled by
a distinct person whose signature verifies against their key in policies/roles.yaml, none of them the
requester or the operator (unless the decision allows it), before expiry. Its one use is recorded in
the desk state (``bind_approval``); the file's ``used_by`` is a display copy only (see verify.py).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import BlockedError, UsageError
from peaktrade.policy.records import ApprovalRecord
from peaktrade.root import Root

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ID = re.compile(r"^[a-z0-9_-]{6,80}$")


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text or "")
    if not m:
        raise UsageError(f"duration {text!r}: expected e.g. 30m, 4h, 2d")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def _parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def approvals_dir(root: Root) -> Path:
    return root.var_dir / "approvals"


def request_bytes(doc: dict[str, Any]) -> bytes:
    """What every approver signs: the canonical JSON of the request object, nothing else."""
    from peaktrade.hashing import canonical_json

    return canonical_json(doc["request"]).encode("utf-8")


def load_request(root: Root, request_id: str) -> dict[str, Any]:
    if not _ID.match(request_id or ""):
        raise UsageError(f"{request_id!r} is not an approval request id")
    path = approvals_dir(root) / f"{request_id}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BlockedError(f"approval request {request_id} not found in {root.rel(approvals_dir(root))}") from None
    except (OSError, ValueError) as exc:
        raise BlockedError(f"approval request {request_id} is unreadable: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("request"), dict) or doc["request"].get("id") != request_id:
        raise BlockedError(f"approval request {request_id} is malformed")
    doc.setdefault("signatures", [])
    return doc


def _save(root: Root, doc: dict[str, Any]) -> None:
    from peaktrade.fsutil import atomic_write_text
    from peaktrade.redact import redact

    request = doc["request"]
    # the signed part must stay byte-identical: only the unsigned envelope is redacted
    out = {"request": request, "signatures": doc["signatures"], "used_by": redact(doc.get("used_by")),
           "requester_signature": doc.get("requester_signature")}
    atomic_write_text(approvals_dir(root) / f"{request['id']}.json", json.dumps(out, indent=2, sort_keys=True) + "\n")


def _lock(root: Root):
    from filelock import FileLock

    approvals_dir(root).mkdir(parents=True, exist_ok=True)
    return FileLock(str(approvals_dir(root) / ".lock"), timeout=30)


def list_requests(root: Root) -> list[dict[str, Any]]:
    out = []
    for p in sorted(approvals_dir(root).glob("*.json")):
        try:
            out.append(load_request(root, p.stem))
        except (BlockedError, UsageError):
            continue
    return sorted(out, key=lambda d: d["request"].get("created_at", ""), reverse=True)


def playbook_subject(root: Root, playbook: str, params: dict[str, Any]) -> dict[str, Any]:
    """The subject of a playbook approval: name, file hash, params with the playbook's defaults."""
    from peaktrade.hashing import playbook_hash
    from peaktrade.playbook.model import load_playbook
    from peaktrade.playbook.params import resolve_params

    pb = load_playbook(root, playbook)
    return {"kind": "playbook", "playbook": playbook, "playbook_hash": playbook_hash(root, playbook),
            "params": bindable_params(resolve_params(pb, params))}


def bindable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Params as a request stores them: a secret-looking param is bound by its hash, never its value."""
    from peaktrade.hashing import value_sha256
    from peaktrade.redact import is_secret_name

    return {k: f"sha256:{value_sha256(v)}" if is_secret_name(k) and v is not None else v
            for k, v in (params or {}).items()}


def exchange_hash(root: Root) -> str:
    """The hash of the config's ``[exchange]`` section: exchange id, account, credential variable names."""
    from peaktrade.config import load_config
    from peaktrade.hashing import value_sha256

    return value_sha256(load_config(root).data.get("exchange") or {})


def desk_stage(root: Root) -> str:
    from peaktrade.policy.stages import current_stage

    return current_stage(root)


def create_request(root: Root, decision: str, subject: dict[str, Any], *, requester: str,
                   expires_in: timedelta, clock: Clock = SYSTEM_CLOCK, requester_key: str | Path | None = None,
                   policy_change: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create and store a request, signed by ``requester`` with their key (``requester_key`` or ssh-agent)."""
    from peaktrade.hashing import policies_hash
    from peaktrade.policy.identity import known_person, prove
    from peaktrade.policy.roles import load_roles

    roles = load_roles(root)
    spec = roles.decision(decision)
    if not requester or not requester.strip():
        raise UsageError("an approval request needs a requester (--requester NAME)")
    known_person(roles, requester.strip(), "requester")
    if expires_in <= timedelta(0):
        raise UsageError("expiry must be in the future")
    if spec.max_validity_hours is not None and expires_in > timedelta(hours=spec.max_validity_hours):
        raise UsageError(f"{decision} approvals may be valid for at most {spec.max_validity_hours:g}h "
                         "(policies/roles.yaml max_validity_hours)")
    if decision == "risk_limit_change" and policy_change is None:
        raise UsageError("a risk_limit_change request binds the change itself: pass --base REF (the policies "
                         "before the change; the working tree holds them after)")
    now = clock.now()
    request_id = f"{decision.replace('_', '-')}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    request = {"version": 2, "id": request_id, "decision": decision, "subject": subject,
               "policies_hash": policies_hash(root), "exchange_hash": exchange_hash(root),
               "desk_stage": desk_stage(root), "requester": requester.strip(),
               "created_at": utc_iso(now), "expires_at": utc_iso(now + expires_in),
               "nonce": secrets.token_hex(8)}
    if policy_change is not None:
        request["policy_change"] = policy_change
    doc: dict[str, Any] = {"request": request, "signatures": [], "used_by": None}
    proof = prove(root, request["requester"], request_bytes(doc), requester_key, what="requester", roles=roles)
    doc["requester_signature"] = {"name": proof.name, "signature": proof.signature,
                                  "fingerprint": proof.fingerprint}
    with _lock(root):
        _save(root, doc)
    return doc


def policy_change(root: Root, base: str) -> dict[str, Any]:
    """What a ``risk_limit_change`` binds: policy file hashes at ``base`` and now, and the classified fields."""
    from peaktrade.hashing import file_sha256, sha256_bytes
    from peaktrade.policy.diff import base_files
    from peaktrade.policy.diffreport import policy_diff

    before = {name: sha256_bytes(text.encode("utf-8")) for name, text in sorted(base_files(root, base).items())}
    after = {p.name: file_sha256(p) for p in sorted(root.policies_dir.glob("*.yaml"))}
    changes = [c.to_dict() for c in policy_diff(root, base).changes]
    if not changes:
        raise UsageError(f"no policy field differs from {base}: there is no change to approve")
    return {"base": base, "before": before, "after": after, "changes": changes}


def sign_request(root: Root, request_id: str, *, name: str, key_path: Path,
                 clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    """Sign with ``name``'s key and record it through ``add_signature`` (the one verifier of signatures)."""
    from peaktrade.policy import sshsig

    signature = sshsig.sign(request_bytes(load_request(root, request_id)), Path(key_path))
    return add_signature(root, request_id, name=name, signature=signature, clock=clock,
                         source=f"the key {key_path}")


def add_signature(root: Root, request_id: str, *, name: str, signature: str, clock: Clock = SYSTEM_CLOCK,
                  source: str = "the signing key") -> dict[str, Any]:
    """Record ``name``'s signature (made here by ``sign_request``, or uploaded to the dashboard) after
    verifying it; refuses unknown people, keys not listed for them, repeats, expiry."""
    from peaktrade.policy import sshsig
    from peaktrade.policy.roles import load_roles

    roles = load_roles(root)
    if name not in roles.people:
        raise UsageError(f"{name!r} is not listed in policies/roles.yaml (people: {', '.join(roles.people)})")
    with _lock(root):
        doc = load_request(root, request_id)
        if clock.now() >= _parse_ts(doc["request"]["expires_at"]):
            raise BlockedError(f"approval request {request_id} expired at {doc['request']['expires_at']}")
        if any(s.get("name") == name for s in doc["signatures"]):
            raise UsageError(f"{name} has already signed {request_id}")
        if name == doc["request"].get("requester") and not roles.decision(doc["request"]["decision"]).allow_requester:
            raise UsageError(f"{name} requested {request_id} and cannot approve it (allow_requester: false)")
        data = request_bytes(doc)
        fingerprint = sshsig.verify(data, signature, name, roles.allowed_signers(sshsig.NAMESPACE))
        if fingerprint is None:
            raise UsageError(f"{source} is not one of {name}'s keys in policies/roles.yaml "
                             f"({sshsig.check(data, signature) or 'unknown fingerprint'})")
        doc["signatures"].append({"name": name, "signature": signature, "fingerprint": fingerprint,
                                  "signed_at": utc_iso(clock.now())})
        _save(root, doc)
    return doc


def verify_for_play(root: Root, decision: str, *, playbook: str, playbook_hash: str, params: dict[str, Any],
                    policies_hash: str, play_id: str, requester: str | None,
                    clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """The verified approval of ``decision`` for this play (see ``peaktrade.policy.verify``)."""
    from peaktrade.policy.verify import verify_for_play as _verify

    try:
        return _verify(root, decision, playbook=playbook, playbook_hash=playbook_hash, params=params,
                       policies_hash=policies_hash, play_id=play_id, requester=requester, clock=clock)
    except BlockedError as exc:
        from peaktrade.policy import gate

        # the operator should learn both halves of the live gate at once, not one per attempt
        if decision == gate.DECISION and not gate._live_enabled(root)[0]:
            exc.message += "; and live.enabled is not true in policies/stages.yaml"
            exc.args = (exc.message,)
        raise


def verify_request(root: Root, request_id: str, *, decision: str, subject: dict[str, Any], token: str,
                   requester: str | None = None, clock: Clock = SYSTEM_CLOCK) -> ApprovalRecord:
    """Verify and bind one request for a kill-switch release or a stage promotion."""
    from peaktrade.policy.verify import verify_request as _verify

    return _verify(root, request_id, decision=decision, subject=subject, token=token, requester=requester,
                   clock=clock)


def default_person(explicit: str | None = None) -> str:
    """Who is acting: ``--operator``/``--requester``, else $PEAKTRADE_OPERATOR, else the login name."""
    import getpass
    import os

    if explicit:
        return explicit
    try:
        return os.environ.get("PEAKTRADE_OPERATOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def describe_subject(subject: dict[str, Any]) -> str:
    kind = subject.get("kind")
    if kind == "playbook":
        params = ", ".join(f"{k}={v}" for k, v in (subject.get("params") or {}).items())
        return f"playbook {subject.get('playbook')}" + (f" ({params})" if params else "")
    if kind == "kill_switch":
        return f"kill-switch release of the engagement at {subject.get('engaged_since')}"
    if kind == "stage_promotion":
        return f"stage promotion {subject.get('from')} -> {subject.get('to')}"
    return str(subject)
