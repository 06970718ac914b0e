"""Shared fixtures of the policy tests: a fresh deployment root copied from the repo's defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path):
    from peaktrade.root import Root

    for d in ("config", "playbooks", "policies", "schemas"):
        if (REPO / d).is_dir():
            shutil.copytree(REPO / d, tmp_path / d)
    return Root(tmp_path)


@pytest.fixture
def clock():
    from peaktrade.clock import FakeClock

    return FakeClock()


@pytest.fixture
def set_yaml(root):
    """Edit a policy file of the test root by text replacement (keeps comments and modeline)."""
    return lambda name, old, new: _set_yaml(root, name, old, new)


def _set_yaml(root, name: str, old: str, new: str) -> None:
    path = root.policy_file(name)
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


PEOPLE = {"alice": ["owner"], "bob": ["operator"], "carol": ["risk_officer"], "dave": ["owner"],
          "erin": ["operator"]}


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """Real ed25519 key pairs made with ssh-keygen, one per person, plus a stranger's key."""
    import subprocess

    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in [*PEOPLE, "mallory"]:
        key = d / name
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(key)],
                       check=True, capture_output=True)
        out[name] = key
    agent_add(*(out[n] for n in PEOPLE))  # people prove who they are with the agent; mallory is not in it
    return out


def agent_add(*keys) -> None:
    """Load private keys into the test session's ssh-agent (tests/conftest.py starts it)."""
    import os
    import subprocess

    if os.environ.get("SSH_AUTH_SOCK"):
        subprocess.run(["ssh-add", "-q", *map(str, keys)], check=True, capture_output=True, timeout=30)


DEMO_PLAYBOOK = """\
name: approve-demo
title: A playbook that needs an approval
runbook: 3
stage: testnet
params:
  size: {type: number, default: 10.0}
  note: {type: string, default: none}
steps:
  - id: approve
    title: Two people approve
    approve: live_activation
    effect: read
"""


@pytest.fixture
def aroot(root, keys):
    """A deployment root whose roles.yaml lists the test people with their real public keys."""
    import yaml

    people = [{"name": n, "roles": r, "keys": [(keys[n].with_suffix(".pub")).read_text().strip()]}
              for n, r in PEOPLE.items()]
    data = yaml.safe_load(root.policy_file("roles").read_text())
    data["people"] = people
    root.policy_file("roles").write_text("# yaml-language-server: $schema=../schemas/roles.schema.json\n"
                                         + yaml.safe_dump(data, sort_keys=False))
    (root.playbooks_dir).mkdir(exist_ok=True)
    root.playbook_file("approve-demo").write_text(DEMO_PLAYBOOK)
    return root


def set_desk_stage(root, stage: str) -> None:
    """Record ``stage`` in the desk state as ``stage promote`` would (tests that need the live gate open)."""
    from peaktrade.policy.stages import write_stage_record

    write_stage_record(root, {"stage": stage, "since": "2026-01-01T00:00:00Z", "by": "test", "history": []})
