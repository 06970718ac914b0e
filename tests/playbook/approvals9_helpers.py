"""Shared setup of the issue 9 tests: real ssh-keygen keys in roles.yaml and the session ssh-agent, a desk
whose live gate is open apart from the approval, and the CLI flows of request / sign / play."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml
from pb_helpers import cli

PEOPLE = {"alice": ["owner"], "bob": ["operator"], "carol": ["risk_officer"], "dave": ["owner"]}


def make_keys(d: Path) -> dict[str, Path]:
    out = {}
    for name in [*PEOPLE, "mallory"]:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(d / name)],
                       check=True, capture_output=True)
        out[name] = d / name
    # people prove who they are through the session's ssh-agent (tests/conftest.py); mallory is not in it
    subprocess.run(["ssh-add", "-q", *(str(out[n]) for n in PEOPLE)], check=True, capture_output=True)
    return out


def with_people(root, keys) -> None:
    data = yaml.safe_load(root.policy_file("roles").read_text())
    data["people"] = [{"name": n, "roles": r, "keys": [keys[n].with_suffix(".pub").read_text().strip()]}
                      for n, r in PEOPLE.items()]
    root.policy_file("roles").write_text("# yaml-language-server: $schema=../schemas/roles.schema.json\n"
                                         + yaml.safe_dump(data, sort_keys=False))


def set_stage(root, stage: str) -> None:
    from peaktrade.policy.stages import write_stage_record

    write_stage_record(root, {"stage": stage, "since": "2026-01-01T00:00:00Z", "by": "test", "history": []})


def open_live(root) -> None:
    """live.enabled, the desk stage live and environment.mode live: only the approval half is left."""
    stages = root.policy_file("stages")
    stages.write_text(stages.read_text().replace("enabled: false", "enabled: true"))
    set_stage(root, "live")
    cfg = root.config_file
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "live"'))


def request(root, capsys, playbook: str, *extra: str, requester: str = "bob") -> str:
    capsys.readouterr()
    assert cli(root, "approvals", "request", "--playbook", playbook, "--decision", "live_activation",
               "--requester", requester, "--json", *extra) == 0
    return json.loads(capsys.readouterr().out)["id"]


def sign(root, keys, rid: str, *names: str) -> None:
    for n in names:
        assert cli(root, "approvals", "sign", rid, "--as", n, "--key", str(keys[n])) == 0


def signed(root, keys, capsys, playbook: str, *extra: str) -> str:
    rid = request(root, capsys, playbook, *extra)
    sign(root, keys, rid, "alice", "dave")
    return rid


def play(root, capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli(root, "play", *args)
    out = capsys.readouterr()
    return code, out.out + out.err


def newest_play(root) -> str:
    return sorted(root.plays_dir.iterdir(), key=lambda p: p.stat().st_mtime)[-1].name
