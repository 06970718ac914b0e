"""--root / PEAKTRADE_ROOT that cannot be resolved are usage errors (exit 2), never an internal error."""

from __future__ import annotations

import os

import pytest

from peaktrade.cli import _common, run


@pytest.fixture(autouse=True)
def _fresh_state():
    _common.STATE.root_arg = None
    yield
    _common.STATE.root_arg = None


def test_unknown_user_in_peaktrade_root(monkeypatch, capsys):
    monkeypatch.setenv("PEAKTRADE_ROOT", "~no-such-user-here")
    assert run(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("peaktrade: deployment root ~no-such-user-here: ") and "internal error" not in err


def test_root_that_is_a_file_or_a_symlink_loop(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert run(["--root", str(f), "validate"]) == 2
    assert capsys.readouterr().err == f"peaktrade: deployment root {f} is not a directory\n"
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    assert run(["--root", str(tmp_path / "a"), "validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"peaktrade: deployment root {tmp_path / 'a'}: ") and "internal error" not in err
