"""`peaktrade serve`: loopback by default, a remote bind only with --allow-remote and a token; the web
modules are imported by this command only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import make_root

PROBE = """
import json, sys
from peaktrade.cli import run
code = run(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'prometheus_client', 'httpx')
               or m.startswith('peaktrade.web'))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _imports(root, *args):
    out = subprocess.run([sys.executable, "-c", PROBE, "--root", str(root), *args], capture_output=True, text=True,
                         timeout=120)
    return json.loads(out.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["kill-switch", "status"], ["monitor", "overview"],
                                  ["serve", "--help"]])
def test_no_web_module_imported_outside_serve(tmp_path, args):
    got = _imports(make_root(tmp_path / "d"), *args)
    assert got["code"] == 0 and got["heavy"] == [], got


def _serve(root, *args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), "serve", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PEAKTRADE_WEB_TOKEN": "", **(env or {})})


def test_remote_bind_needs_allow_remote_and_a_token(tmp_path):
    root = make_root(tmp_path / "d")
    out = _serve(root, "--host", "0.0.0.0")
    assert out.returncode == 2 and "--host 0.0.0.0 is not a loopback address: add --allow-remote" in out.stderr
    out = _serve(root, "--host", "0.0.0.0", "--allow-remote")
    assert out.returncode == 2 and "--allow-remote needs a token: set $PEAKTRADE_WEB_TOKEN" in out.stderr
    out = _serve(root, "--host", "0.0.0.0", "--allow-remote", env={"PEAKTRADE_WEB_TOKEN": "short"})
    assert out.returncode == 2 and "$PEAKTRADE_WEB_TOKEN is too short" in out.stderr
    assert "Traceback" not in out.stderr


def test_loopback_names():
    from peaktrade.web.security import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "example.com", "::"))


def test_only_the_serve_command_imports_the_dashboard_and_the_dashboard_reaches_no_order_path():
    """Static check over the sources (import-linter's contracts live with the core layers)."""
    import ast
    from pathlib import Path

    pkg = Path(__file__).resolve().parents[2] / "peaktrade"

    def imports(path: Path) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        return names

    users = sorted(str(p.relative_to(pkg)) for p in pkg.rglob("*.py")
                   if "web" not in p.relative_to(pkg).parts[:1]
                   and any(n == "peaktrade.web" or n.startswith("peaktrade.web.") for n in imports(p)))
    assert users == ["cli/serve.py"]
    forbidden = ("peaktrade.gateway", "peaktrade.actions", "peaktrade.exchange", "peaktrade.runtime.orchestrator")
    reached = sorted(f"{p.name}: {n}" for p in (pkg / "web").rglob("*.py") for n in imports(p)
                     if n.startswith(forbidden))
    assert reached == []
