"""`kill-switch status` text: an unreadable state file (fail closed) shows no 'since None, by None', and
a multi-line reason stays on the one status line."""

from __future__ import annotations

from peaktrade.cli import run


def test_unreadable_state_file_reads_killed_without_none(root, capsys):
    root.var_dir.mkdir(parents=True, exist_ok=True)
    (root.var_dir / "kill-switch.json").write_text("garbage")
    assert run(["--root", str(root.path), "kill-switch", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Kill switch: KILLED (kill-switch state file unreadable (")
    assert "None" not in out


def test_multi_line_reason_is_one_line(root, capsys):
    assert run(["--root", str(root.path), "kill-switch", "engage", "--reason", "a\nb", "--operator", "bob"]) == 0
    capsys.readouterr()
    assert run(["--root", str(root.path), "kill-switch", "status"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.rstrip().endswith(", by bob: a b)")
