"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml are kept.

The contracts say: the domain (policy, desk state, exchange adapters, gateway) and the runtime import no
CLI, no interpreter and no actions; the adapters know no policy; only the gateway (and the use cases in
peaktrade/ops) build order venues. ``tests/gateway/test_gateway_one_road.py`` adds the call-level proof."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    out = subprocess.run([exe, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout or "Contracts: 4 kept" in out.stdout


def _fallbacks(source: str) -> list[int]:
    """Lines of ``try: from peaktrade... except ImportError:`` handlers that fall back instead of raising."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Try):
            continue
        ours = any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("peaktrade")
                   or isinstance(n, ast.Import) and any(a.name.startswith("peaktrade") for a in n.names)
                   for stmt in node.body for n in ast.walk(stmt))
        for handler in node.handlers:
            names = [handler.type] if not isinstance(handler.type, ast.Tuple) else handler.type.elts
            catches = any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError") for t in names)
            raises = any(isinstance(n, ast.Raise) for stmt in handler.body for n in ast.walk(stmt))
            if ours and catches and not raises:
                found.append(handler.lineno)
    return found


def test_no_fallback_imports_of_our_own_modules():
    """A missing module of ours is a bug, never a reason to answer 'allowed' (STYLE): no handler of an
    ImportError around our own imports may fall back (one that raises a clear error is fine)."""
    offenders = [f"{path.relative_to(REPO)}:{line}" for path in sorted((REPO / "peaktrade").rglob("*.py"))
                 for line in _fallbacks(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_fallback_scan_finds_one():
    assert _fallbacks("try:\n    from peaktrade.x import y\nexcept ImportError:\n    y = None\n") == [3]
    assert _fallbacks("try:\n    from peaktrade.x import y\nexcept ImportError:\n    raise SystemExit(2)\n") == []
