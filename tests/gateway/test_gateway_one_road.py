"""There is one road to an exchange: only the gateway calls an adapter's order methods (DESIGN 6).

The scan reads every module of the package and fails on any call of create_order, cancel_order,
cancel_all_orders or a validate-only order outside ``peaktrade/gateway`` (and the adapters themselves,
which implement those methods)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "peaktrade"
ORDER_METHODS = {"create_order", "cancel_order", "cancel_all_orders", "edit_order", "create_orders"}
ALLOWED = ("gateway/", "exchange/")  # the road itself, and the adapters that implement the methods


def _calls(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ORDER_METHODS:
            found.append((node.lineno, node.func.attr))
        if isinstance(node, ast.Call) and any(k.arg == "validate_only" for k in node.keywords):
            found.append((node.lineno, "validate_only"))
    return found


def test_only_the_gateway_calls_the_adapters_order_methods():
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith(ALLOWED):
            continue
        offenders += [f"peaktrade/{rel}:{line}: {name}" for line, name in _calls(path)]
    assert offenders == [], "order methods called outside peaktrade/gateway:\n" + "\n".join(offenders)


def test_the_adapters_do_not_call_each_others_order_methods_on_behalf_of_callers():
    """Inside peaktrade/exchange only the adapters' own implementations may place orders (no use case)."""
    users = []
    for path in sorted((PKG / "exchange").rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if path.name in ("smoke.py", "orders.py", "readiness.py"):
            users += [f"peaktrade/{rel}:{line}: {name}" for line, name in _calls(path)]
    assert users == []


def test_the_scan_finds_a_call_when_there_is_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(ex):\n    return ex.create_order('BTC/EUR', 'buy', 'market', 1)\n")
    assert _calls(bad) == [(2, "create_order")]
