"""Issue 10, class 2: bounded input. Alias bombs, huge files, deep nesting and huge values give one
located, clipped error, never a hang, a RecursionError or megabytes of output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from peaktrade.loader import MAX_BYTES, MAX_DEPTH, parse_yaml
from peaktrade.problems import MAX_MESSAGE, Problem

REPO = Path(__file__).resolve().parents[2]
HEADER = "name: bomb\ntitle: t\nrunbook: 1\nstage: testnet\n"


def _root(tmp_path: Path) -> Path:
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, tmp_path / d)
    return tmp_path


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=root)


def alias_bomb(where: str) -> str:
    """10 aliases x 9 levels (10^9 leaves once expanded) under a step's with:, a run list, a param
    default or a manual text."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    defs = "x-bomb:\n" + "\n".join(f"  {line}" for line in levels) + "\n"
    body = {
        "with": ("steps:\n  - {id: s, title: t, effect: read, action: disk.check, "
                 "with: {paths: *a9}}\n"),
        "run": "steps:\n  - {id: s, title: t, effect: read, run: *a9}\n",
        "default": ("params:\n  p: {type: string, default: *a9}\n"
                    "steps:\n  - {id: s, title: t, effect: read, manual: m}\n"),
        "manual": "steps:\n  - {id: s, title: t, effect: read, manual: *a9}\n",
    }[where]
    return HEADER + defs + body


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["with", "run", "default", "manual"])
def test_validate_on_an_alias_bomb_answers_fast_with_exit_2_and_little_output(tmp_path, where):
    root = _root(tmp_path)
    (root / "playbooks" / "bomb.yaml").write_text(alias_bomb(where))
    res = _cli(root, "validate", "playbooks/bomb.yaml")
    assert res.returncode == 2
    out = res.stdout + res.stderr
    assert len(out.encode()) < 10_000
    assert "playbooks/bomb.yaml:6:7: $: YAML" in out and "anchors and aliases are not allowed" in out
    assert "Traceback" not in out and "internal" not in out


def test_a_policy_with_an_alias_is_refused_too(tmp_path):
    root = _root(tmp_path)
    path = root / "policies" / "risk-limits.yaml"
    path.write_text("x: &a {max_order_notional: 1}\n" + path.read_text())
    res = _cli(root, "validate", "policies/risk-limits.yaml")
    assert res.returncode == 2 and "policies/risk-limits.yaml:1:4: $: YAML anchors and aliases" in res.stdout


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path):
    root = _root(tmp_path)
    (root / "playbooks" / "big.yaml").write_text(HEADER + "description: " + "x" * (MAX_BYTES + 10) + "\n")
    res = _cli(root, "validate", "playbooks/big.yaml")
    assert res.returncode == 2 and "playbooks/big.yaml:1:1: $: file is larger than 1024 KB" in res.stdout
    assert len(res.stdout) < 2000


def test_a_huge_value_in_a_wrongly_typed_field_is_clipped(tmp_path):
    root = _root(tmp_path)
    text = (HEADER.replace("runbook: 1", "runbook: " + "y" * 600_000)
            + "steps:\n  - {id: s, title: t, effect: read, manual: m}\n")
    (root / "playbooks" / "wide.yaml").write_text(text)
    res = _cli(root, "validate", "playbooks/wide.yaml")
    assert res.returncode == 2
    assert len(res.stdout) < 10_000
    assert "playbooks/wide.yaml:3:1" in res.stdout and "$.runbook: 'yyy" in res.stdout
    assert "more characters]" in res.stdout


def test_nesting_deeper_than_the_cap_is_a_located_error():
    deep = HEADER + "steps:\n" + "  - " + "{a: " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5) + "\n"
    loaded = parse_yaml(deep, "playbooks/deep.yaml")
    assert loaded.data is None
    (problem,) = loaded.problems
    assert problem.line == 6 and f"nested deeper than {MAX_DEPTH} levels" in problem.message


@pytest.mark.parametrize("nest", ["inline", "header"])
def test_a_deeply_nested_config_is_a_located_error_in_validate_and_play(tmp_path, nest):
    root = _root(tmp_path)
    cfg = root / "config" / "config.toml"
    if nest == "inline":
        cfg.write_text(cfg.read_text() + "\n[deep]\nx = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    else:
        cfg.write_text(cfg.read_text() + "\n[" + ".".join(["a"] * 3000) + "]\nx = 1\n")
    for args in (("validate",), ("play", "health-check", "--dry-run")):
        res = _cli(root, *args)
        out = res.stdout + res.stderr
        assert res.returncode == 2, out
        assert "config/config.toml:" in out and "nested deeper than" in out
        assert "RecursionError" not in out and "Traceback" not in out and len(out) < 10_000


def test_every_problem_message_is_clipped():
    p = Problem("f.yaml", 1, 1, "$", "v" * 1_000_000)
    assert len(p.message) < MAX_MESSAGE + 50 and p.message.endswith("more characters]")
    assert len(p.text()) < 1000


def test_a_playbook_with_thousands_of_steps_is_refused_quickly_and_briefly(tmp_path):
    root = _root(tmp_path)
    steps = "".join(f"  - {{id: s{i}, title: t, effect: read, run: [echo, '{{{{ params.x }}}}']}}\n"
                    for i in range(5000))
    (root / "playbooks" / "many.yaml").write_text(HEADER.replace("bomb", "many") + "steps:\n" + steps)
    res = _cli(root, "validate", "playbooks/many.yaml")
    assert res.returncode == 2
    assert "playbooks/many.yaml:506:5: $.steps[500]: more than 500 steps (5000)" in res.stdout
    assert len(res.stdout) < 2000


def test_problems_per_file_are_capped(tmp_path):
    root = _root(tmp_path)
    steps = "".join(f"  - {{id: s{i}, title: t, effect: read, run: [echo, '{{{{ params.x }}}}']}}\n"
                    for i in range(300))
    (root / "playbooks" / "many.yaml").write_text(HEADER.replace("bomb", "many") + "steps:\n" + steps)
    res = _cli(root, "validate", "playbooks/many.yaml")
    assert res.returncode == 2
    assert "... and 200 more problem(s) in this file (200 error(s)); only the first 100 are shown" in res.stdout
    assert len(res.stdout.splitlines()) == 102
