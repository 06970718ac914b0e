"""Issue 10, class 8: hypothesis over malformed playbooks, policies and config, through validate.

Every generated file must give located problems: no traceback, no internal error, bounded output.
The checks run in-process on ``validate_files`` (the code behind ``peaktrade validate``) to keep the
suite within ~20-30 s (200 examples per file kind); one CLI round at the end checks the process
boundary on a few of the worst shapes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaktrade.root import Root
from peaktrade.validation import validate_files

REPO = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MAX_OUT = 20_000  # characters of problems per file

_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=40), st.just("{{ params.x }}"), st.just("{% for %}"), st.just("x" * 5000))
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=20)


def _yaml(value) -> str:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def _mutations() -> st.SearchStrategy[str]:
    """Texts that are hostile in the ways the issue names: aliases, depth, size, types, encodings."""
    step = st.fixed_dictionaries({"id": _scalar, "title": _scalar, "effect": _scalar},
                                 optional={"run": _value, "action": _scalar, "with": _value, "manual": _value,
                                           "shell": _scalar, "when": _scalar, "env_from_secrets": _value})
    playbook = st.fixed_dictionaries({"name": _scalar, "title": _scalar, "runbook": _scalar, "stage": _scalar},
                                     optional={"params": _value, "steps": st.lists(step, max_size=4),
                                               "guards": _value, "on_failure": _value}).map(_yaml)
    alias = st.integers(2, 12).map(lambda n: "a: &a [x, x]\n" + "".join(
        f"b{i}: &b{i} [" + ", ".join(["*a" if i == 0 else f"*b{i - 1}"] * 8) + "]\n" for i in range(n)))
    deep = st.integers(30, 3000).map(lambda n: "steps: " + "[" * n + "]" * n + "\n")
    deep_block = st.integers(30, 200).map(lambda n: "".join("  " * i + f"k{i}:\n" for i in range(n)) + "  " * n + "v\n")
    wide = st.integers(1, 50).map(lambda n: "name: " + "y" * (n * 10_000) + "\nsteps: 3\n")
    garbage = st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
    tags = st.sampled_from(["x: !!python/object:os.system ls\n", "x: !!binary aGk=\n", "? [a]\n: b\n",
                            "x: 1\nx: 2\n", "%YAML 1.1\n---\na: 1\n---\nb: 2\n", "<<: {a: 1}\n", "x: .nan\n"])
    return st.one_of(playbook, _value.map(_yaml), alias, deep, deep_block, wide, garbage, tags)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Root:
    base = tmp_path_factory.mktemp("fuzz")
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, base / d)
    return Root(base)


def _check(root: Root, rel: str, data: str | bytes) -> None:
    path = root.path / rel
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    report = validate_files(root, [path])
    text = "\n".join(p.text() for p in report.problems)
    assert "internal" not in text.lower() and "Traceback" not in text, text[:2000]
    assert len(text) < MAX_OUT, f"{len(text)} characters of output"
    for p in report.problems:
        assert p.line >= 1 and p.col >= 1


@pytest.mark.slow
@SETTINGS
@given(text=_mutations())
def test_malformed_playbooks_give_located_bounded_problems(root, text):
    _check(root, "playbooks/fuzz.yaml", text)


@pytest.mark.slow
@SETTINGS
@given(text=_mutations())
def test_malformed_policies_give_located_bounded_problems(root, text):
    _check(root, "policies/risk-limits.yaml", text)
    shutil.copy(REPO / "policies" / "risk-limits.yaml", root.path / "policies" / "risk-limits.yaml")


_toml_key = st.from_regex(r"[a-z_]{1,8}", fullmatch=True)


def _toml() -> st.SearchStrategy[str]:
    base = (REPO / "config" / "config.toml").read_text()
    deep_inline = st.integers(30, 3000).map(lambda n: base + "\n[deep]\nx = " + "{a = " * n + "1" + "}" * n + "\n")
    deep_array = st.integers(30, 3000).map(lambda n: base + "\n[deep]\nx = " + "[" * n + "]" * n + "\n")
    deep_table = st.integers(30, 2000).map(lambda n: base + "\n[" + ".".join(["a"] * n) + "]\nx = 1\n")
    retyped = st.tuples(st.sampled_from(["mode", "default_type", "api_key_env", "compact_every", "enabled"]),
                        st.sampled_from(['1', '"x"', '[]', '{}', 'true', '"' + "z" * 100_000 + '"'])).map(
        lambda kv: "\n".join(f"{kv[0]} = {kv[1]}" if line.strip().startswith(kv[0] + " ") else line
                             for line in base.splitlines()) + "\n")
    junk = st.text(max_size=200).map(lambda t: base + "\n" + t)
    return st.one_of(deep_inline, deep_array, deep_table, retyped, junk, st.binary(max_size=200).map(
        lambda b: b.decode("latin-1")))


@pytest.mark.slow
@SETTINGS
@given(text=_toml())
def test_malformed_config_gives_located_bounded_problems(root, text):
    _check(root, "config/config.toml", text)
    shutil.copy(REPO / "config" / "config.toml", root.path / "config" / "config.toml")


def test_non_utf8_and_bom_files(root):
    _check(root, "playbooks/fuzz.yaml", b"\xff\xfe\x00n\x00a\x00m\x00e")
    _check(root, "playbooks/fuzz.yaml", "\ufeffname: fuzz\n".encode())


@pytest.mark.timeout(120)
def test_the_cli_stays_bounded_on_the_worst_shapes(tmp_path):
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, tmp_path / d)
    worst = {
        "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"b{i}: &b{i} [" + ", ".join(["*a" if i == 0 else f"*b{i - 1}"] * 10) + "]\n" for i in range(9)),
        "deep.yaml": "steps: " + "[" * 5000 + "]" * 5000 + "\n",
        "wide.yaml": "name: " + "y" * 900_000 + "\n",
    }
    for name, text in worst.items():
        (tmp_path / "playbooks" / name).write_text(text)
        res = subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(tmp_path), "validate",
                              f"playbooks/{name}"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        out = res.stdout + res.stderr
        assert res.returncode == 2, out[:2000]
        assert len(out) < 10_000 and "Traceback" not in out and "internal error" not in out
