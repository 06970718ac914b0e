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
    import shutil
    import subprocess

    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "PEAKTRADE_DESK_KEY")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ.pop("PEAKTRADE_DESK_KEY", None)
    os.environ.pop("SSH_AUTH_SOCK", None)
    agent = None
    if shutil.which("ssh-agent"):
        import sys
        import time

        sock = tmp_path_factory.mktemp("agent") / "sock"
        # the agent runs a watcher as its command and dies with it; the watcher exits when this test
        # session is gone, even if it was killed, so no agent outlives its session
        watch = "import os,sys,time\nwhile True:\n    time.sleep(1)\n    try: os.kill(int(sys.argv[1]), 0)\n" \
                "    except OSError: break\n"
        agent = subprocess.Popen(["ssh-agent", "-a", str(sock), sys.executable, "-c", watch, str(os.getpid())],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if sock.exists():
                os.environ["SSH_AUTH_SOCK"] = str(sock)
                break
            time.sleep(0.05)
    yield
    if agent is not None:
        agent.terminate()
        try:
            agent.wait(timeout=10)
        except subprocess.TimeoutExpired:
            agent.kill()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v



def next_market_seed(root: Path) -> int:
    """Move ``[exchange.dummy] seed`` of ``root`` on by one; returns the new seed.

    The dummy exchange's prices follow the wall clock, so on one seed a short session now and then sees no
    crossover and trades nothing (about one run in 40): a test about what happens to orders then proves
    nothing. Such a test runs the session again on the next seed; every run is a real session."""
    import re

    cfg = root / "config" / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    found = re.search(r"(?m)^seed = (\d+)$", text)
    assert found, f"no [exchange.dummy] seed in {cfg}"
    seed = int(found.group(1)) + 1
    cfg.write_text(text[:found.start()] + f"seed = {seed}" + text[found.end():], encoding="utf-8")
    return seed
