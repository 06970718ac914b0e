"""Fixtures shared by several test areas."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """A fresh deployment root: the repo's shipped config, playbooks, policies and schemas, and live_runs/."""
    for name in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / name, tmp_path / name)
    (tmp_path / "live_runs").mkdir()
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def _desk_key_and_agent(tmp_path_factory):
    """Every test session: the desk HMAC key under a temporary config dir (never the real ~/.config), and
    one ssh-agent of its own (``ssh_agent`` adds keys to it: people prove who they are with the agent)."""
    import os
    import re
    import shutil
    import subprocess

    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "PEAKTRADE_DESK_KEY")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ.pop("PEAKTRADE_DESK_KEY", None)
    os.environ.pop("SSH_AUTH_SOCK", None)
    pid = None
    if shutil.which("ssh-agent"):
        sock = tmp_path_factory.mktemp("agent") / "sock"
        out = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"SSH_AGENT_PID=(\d+)", out)
        if m:
            pid = int(m.group(1))
            os.environ["SSH_AUTH_SOCK"] = str(sock)
    yield
    if pid is not None:
        import signal

        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v

