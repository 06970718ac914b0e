"""A NaN or infinite limit (YAML .nan / .inf) is invalid, never a limit that silently blocks nothing.

JSON Schema's ``minimum`` lets NaN through (``nan < 0`` is false), and a NaN limit compares false
with every notional, so the engine would never block: validate and every policy reader refuse it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root_dir(tmp_path: Path) -> Path:
    for name in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / name, tmp_path / name)
    return tmp_path


def _set(root_dir: Path, old: str, new: str) -> None:
    f = root_dir / "policies" / "risk-limits.yaml"
    text = f.read_text()
    assert old in text
    f.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_limit_is_refused_by_validate_and_the_risk_reader(root_dir, value):
    from peaktrade.errors import UsageError
    from peaktrade.policy.limits import load_risk_limits
    from peaktrade.root import Root
    from peaktrade.validation import validate_files

    _set(root_dir, "max_order_notional: 1000.0", f"max_order_notional: {value}")
    root = Root(root_dir)
    errors = [p.text() for p in validate_files(root, None).errors]
    assert any(e.startswith("policies/risk-limits.yaml:13:5: $.stages.shadow.max_order_notional: ")
               and "is not a finite number" in e for e in errors), errors
    with pytest.raises(UsageError) as exc:
        load_risk_limits(root, "shadow")
    assert "is not a finite number" in "\n".join(exc.value.details)
