"""Content hashes that bind plays and approvals to exact files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peaktrade.root import Root


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def value_sha256(value: Any) -> str:
    return sha256_bytes(canonical_json(value).encode("utf-8"))


def policies_hash(root: Root) -> str:
    """One hash over every policy file (name and content), in name order."""
    h = hashlib.sha256()
    for p in sorted(root.policies_dir.glob("*.yaml")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def playbook_hash(root: Root, name: str) -> str:
    return file_sha256(root.playbook_file(name))
