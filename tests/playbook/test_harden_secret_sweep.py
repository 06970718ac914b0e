"""Issue 10: the secret sweep. Unique markers in every credential variable the config names (and in
every secret-looking param); every shipped playbook played in a fresh ``peaktrade init`` root with
the dummy exchange, as a dry run and for real; then no marker in any file under the root or in any
captured output. Plays that need a human or a testnet are expected to stop; none may leak."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from peaktrade.config import credential_env, load_config
from peaktrade.playbook.model import load_playbook, playbook_names
from peaktrade.redact import is_secret_name
from peaktrade.root import Root

MARK = "SWEEPd41d8cd98f"


def _cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL, env=env, cwd=root)


def _params(root: Root, name: str) -> list[str]:
    """-p for the params a play needs (and a marker in every secret-looking one)."""
    out = []
    for pname, param in load_playbook(root, name).params.items():
        if is_secret_name(pname) or getattr(param, "secret", False):
            out += ["-p", f"{pname}={MARK}{pname}"]
        elif param.required and not param.has_default:
            value = param.enum[0] if param.enum else ("testnet_20260101_000000_abcdef" if "run" in pname else "1")
            out += ["-p", f"{pname}={value}"]
    return out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_marker_anywhere_after_every_shipped_playbook(tmp_path):
    base = tmp_path / "desk"
    env = {k: v for k, v in os.environ.items() if not is_secret_name(k)}
    env["PEAKTRADE_OPERATOR"] = "sweeper"
    subprocess.run([sys.executable, "-m", "peaktrade", "init", str(base)], check=True, capture_output=True, env=env)
    root = Root(base)
    names = credential_env(load_config(root).data)
    assert names, "the shipped config names credential variables"
    for i, name in enumerate(sorted(names)):
        env[name] = f"{MARK}{i:02d}{name}"
    captured = []
    for name in playbook_names(root):
        for mode in (["--dry-run"], ["--yes"]):
            res = _cli(base, env, "play", name, *_params(root, name), *mode)
            captured.append(f"$ play {name} {mode}\n{res.stdout}\n{res.stderr}")
            assert "internal error" not in res.stderr, res.stderr
    text = "\n".join(captured)
    assert MARK not in text, text[max(0, text.find(MARK) - 500):text.find(MARK) + 200]
    leaked = []
    for path in base.rglob("*"):
        if path.is_file() and MARK.encode() in path.read_bytes():
            leaked.append(str(path.relative_to(base)))
    assert not leaked, leaked
    # the sweep did exercise the plays: journals and checklists exist for each playbook
    assert len(list(root.plays_dir.iterdir())) >= len(playbook_names(root))
