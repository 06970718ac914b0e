"""Who is who (DESIGN 7): a person proves their name by signing with a key roles.yaml lists for them.

A name typed on the command line (``--requester``, ``--operator``) is a claim; ``prove`` turns it into a
fact: it signs ``data`` with the private key at ``--key`` (or, with only a ``.pub`` file or no key at
all, with the ssh-agent holding one of the person's listed keys) and verifies the signature against
policies/roles.yaml. The result is the signature and the key's fingerprint, which records then carry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from peaktrade.errors import BlockedError, UsageError
from peaktrade.policy import sshsig
from peaktrade.policy.roles import Roles, load_roles
from peaktrade.root import Root


@dataclass(frozen=True)
class Proof:
    name: str
    fingerprint: str
    signature: str


def known_person(roles: Roles, name: str | None, what: str) -> str:
    """``name`` if policies/roles.yaml lists it, else a usage error naming who is listed."""
    if not name or name not in roles.people:
        raise UsageError(f"{what} {name!r} is not listed in policies/roles.yaml "
                         f"(people: {', '.join(roles.people) or 'none'})")
    return name


def _agent_keys() -> list[str]:
    """Public keys the ssh-agent holds (``ssh-add -L``); none without an agent."""
    exe = shutil.which("ssh-add")
    if exe is None or not os.environ.get("SSH_AUTH_SOCK"):
        return []
    try:
        proc = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in proc.stdout.splitlines() if proc.returncode == 0 and line.strip()]


def _sign_with_agent(data: bytes, roles: Roles, name: str) -> str:
    listed = {" ".join(k.split()[:2]) for k in roles.people[name].keys}
    for key in _agent_keys():
        if " ".join(key.split()[:2]) not in listed:
            continue
        with tempfile.TemporaryDirectory(prefix="peaktrade-id-") as tmp:
            pub = Path(tmp) / "key.pub"
            pub.write_text(key + "\n", encoding="utf-8")
            return sshsig.sign(data, pub)  # a .pub file makes ssh-keygen ask the agent
    raise BlockedError(f"{name} must prove who they are: pass --key PATH (their private SSH key), or load one of "
                       f"{name}'s keys of policies/roles.yaml into ssh-agent")


def prove(root: Root, name: str, data: bytes, key: str | Path | None, *, what: str = "operator",
          roles: Roles | None = None) -> Proof:
    """Sign ``data`` as ``name`` and check the key is one of ``name``'s in roles.yaml; refuse otherwise."""
    roles = roles or load_roles(root)
    known_person(roles, name, what)
    signature = sshsig.sign(data, Path(key).expanduser()) if key else _sign_with_agent(data, roles, name)
    fingerprint = sshsig.verify(data, signature, name, roles.allowed_signers(sshsig.NAMESPACE))
    if fingerprint is None:
        raise BlockedError(f"the key {key or '(ssh-agent)'} is not one of {name}'s keys in policies/roles.yaml "
                           f"({sshsig.check(data, signature) or 'unknown fingerprint'}): {what} {name} not proven")
    return Proof(name, fingerprint, signature)


def check(root: Root, name: str, data: bytes, signature: str, roles: Roles | None = None) -> str | None:
    """The fingerprint if ``name`` signed ``data`` with one of their listed keys, else None."""
    roles = roles or load_roles(root)
    if name not in roles.people or not isinstance(signature, str):
        return None
    return sshsig.verify(data, signature, name, roles.allowed_signers(sshsig.NAMESPACE))
