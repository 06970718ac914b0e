"""Plain CLI parameters are coerced without pydantic, with typer's own behaviour for everything else."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum

import pytest

from peaktrade.cli._fastparams import _plain_value


class Fmt(str, Enum):  # noqa: UP042 - the shape typer users write
    text = "text"
    json = "json"


@pytest.mark.parametrize(("annotation", "value", "expected"), [
    (str, "x", (True, "x")),
    (bool, True, (True, True)),
    (int, 5, (True, 5)),
    (int, "-12", (True, -12)),
    (float, "2.5e1", (True, 25.0)),
    (float, 3, (True, 3.0)),
    (Fmt, "json", (True, Fmt.json)),
    (list[str], ("a", "b"), (True, ["a", "b"])),
])
def test_plain_values_are_coerced_directly(annotation, value, expected):
    assert _plain_value(annotation, value) == expected


@pytest.mark.parametrize(("annotation", "value"), [
    (int, "5.0"), (int, "1_000"), (int, "2\n"), (int, True), (float, "inf"), (float, "nan"),
    (Fmt, "yaml"), (Fmt, "JSON"), (str, 5), (list[str], ("a", 1)),
])
def test_anything_else_is_left_to_typer(annotation, value):
    assert _plain_value(annotation, value) == (False, None)


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout


def test_a_typer_app_behaves_the_same_and_imports_no_pydantic_for_plain_values():
    code = """
import sys, typer
from enum import Enum
from peaktrade.cli import _fastparams
_fastparams.install()
class F(str, Enum):
    a = "a"
app = typer.Typer()
@app.command()
def cmd(n: int = typer.Option(1), x: float = typer.Option(0.5), f: F = typer.Option(F.a),
        names: list[str] = typer.Argument(None)):
    print(repr((n, x, f, names)))
try:
    app(args=sys.argv[1:] or %r, standalone_mode=False)
except Exception as exc:
    print(type(exc).__name__, exc)
print("pydantic" in sys.modules)
"""
    out = _run(code % (["--n", "7", "--x", "1.5", "--f", "a", "p", "q"],)).splitlines()
    assert out == ["(7, 1.5, <F.a: 'a'>, ['p', 'q'])", "False"]
    out = _run(code % (["--n", "seven"],)).splitlines()
    assert out[-1] == "True" and out[0].startswith("BadParameter") and "valid integer" in out[0]
