"""`kill-switch status` text: an unreadable state file (fail closed) shows no 'since None, by None', and
a multi-line reason stays on the one status line."""

from __future__ import annotations

from peaktrade.cli import run


def test_unreadable_state_reads_engaged_without_none(root, capsys):
    import sqlite3

    from peaktrade.desk import open_desk

    open_desk(root)
    con = sqlite3.connect(root.var_dir / "desk.sqlite")
    con.execute("DELETE FROM kill_switch")
    con.commit()
    con.close()
    assert run(["--root", str(root.path), "kill-switch", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Kill switch: engaged (desk state unreadable, failing closed: the desk state holds no "
                          "kill-switch row (deleted?)")
    assert "None" not in out


def test_multi_line_reason_is_one_line(root, capsys):
    assert run(["--root", str(root.path), "kill-switch", "engage", "--reason", "a\nb", "--operator", "bob"]) == 0
    capsys.readouterr()
    assert run(["--root", str(root.path), "kill-switch", "status"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.rstrip().endswith(", by bob: a b)")
