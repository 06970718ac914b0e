"""Issue 10, class 4: operations.log has one writer, and one act is always one line."""

from __future__ import annotations

import pytest

from peaktrade.oplog import append_operation, fold
from peaktrade.root import Root

FORGERY = "x\n2026-01-01T00:00:00Z kill-switch released by alice: approved"


@pytest.mark.parametrize("sep", ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"])
@pytest.mark.parametrize("field", ["operator", "what", "play_id", "outcome", "reason"])
def test_no_field_can_start_a_second_line(tmp_path, sep, field):
    root = Root(tmp_path)
    values = {"operator": "bob", "what": "kill-switch engage", "play_id": None, "outcome": "engaged", "reason": "r"}
    values[field] = FORGERY.replace("\n", sep)
    append_operation(root, **values)
    text = root.operations_log.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 1 and text.endswith("\n") and text.count("\n") == 1
    assert "2026-01-01T00:00:00Z kill-switch released by alice" in text  # shown, folded, not dropped


def test_control_characters_are_shown_as_escapes():
    assert fold("a\tb\x1b[31mc\x00\u2028") == "a\\tb\\x1b[31mc\\x00\\u2028"


def test_quotes_and_backslashes_cannot_fake_a_field(tmp_path):
    root = Root(tmp_path)
    line = append_operation(root, operator='bob" outcome=approved x="', what="w", outcome="engaged")
    assert 'operator="bob\\" outcome=approved x=\\""' in line


def test_kill_switch_reason_cannot_forge_a_release_line(tmp_path):
    """The issue's reproduction, through the real CLI."""
    import subprocess
    import sys

    base = tmp_path / "desk"
    subprocess.run([sys.executable, "-m", "peaktrade", "init", str(base)], check=True, capture_output=True)
    res = subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(base), "kill-switch", "engage",
                          "--reason", FORGERY, "--operator", "bob"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    lines = (base / "logs" / "operations.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "operator=bob" in lines[0] and "kill-switch engage" in lines[0]
    assert not any(line.startswith("2026-01-01T00:00:00Z") for line in lines)
