"""`policy diff`: a limit changed to NaN or infinity is a flagged loosening, and --format json stays
valid JSON (no bare NaN/Infinity tokens, which CI JSON parsers reject)."""

from __future__ import annotations

import json
import subprocess

import pytest

from peaktrade.cli import run


@pytest.fixture
def repo(root, monkeypatch):
    def git(*args):
        subprocess.run(["git", "-C", str(root.path), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", "policies")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    monkeypatch.setenv("PEAKTRADE_ROOT", str(root.path))
    return root


def _strict_json(text):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(("value", "shown"), [(".nan", "nan"), (".inf", "inf")])
def test_non_finite_limit_is_a_flagged_loosening_in_valid_json(repo, capsys, value, shown):
    path = repo.policy_file("risk-limits")
    path.write_text(path.read_text().replace("max_order_notional: 100.0", f"max_order_notional: {value}", 1))
    assert run(["policy", "diff", "--base", "main", "--format", "json"]) == 0
    report = _strict_json(capsys.readouterr().out)
    (c,) = [c for c in report["changes"] if c["path"] == "$.stages.live.max_order_notional"]
    assert (c["direction"], c["old"], c["new"], c["pct"], c["flagged"]) == ("loosened", 100.0, shown, None, True)
    assert run(["policy", "diff", "--base", "main", "--fail-on-loosen"]) == 1
