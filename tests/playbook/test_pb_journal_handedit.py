"""`plays list|show` and `--resume` over journals edited by hand: emptied or overwritten with binary
data, the journal is reported TAMPERED - never an internal error."""

from __future__ import annotations

import pytest
from pb_helpers import cli, write_playbook


@pytest.fixture
def play_id(root, capsys):
    write_playbook(root, "tiny", """
        steps:
          - id: one
            title: One
            action: test.echo
            with: {message: hi}
            effect: read
        """)
    assert cli(root, "play", "tiny") == 0
    capsys.readouterr()
    (play_dir,) = root.plays_dir.iterdir()
    return play_dir.name


@pytest.mark.parametrize("content", [b"", b"\xda\x00\xff garbage\n\x80\x81\n"], ids=["empty", "binary"])
def test_hand_edited_journal_is_tampered_not_a_crash(root, play_id, capsys, content):
    (root.plays_dir / play_id / "journal.jsonl").write_bytes(content)
    assert cli(root, "plays", "list") == 0
    out, err = capsys.readouterr()
    assert "internal error" not in err
    assert out.startswith("PLAY ")  # the header line (issue 11)
    row = out.splitlines()[1]
    assert row.startswith(f"{play_id}  -  ") and row.rstrip().endswith("TAMPERED")
    assert cli(root, "plays", "show", play_id) == 1
    out, err = capsys.readouterr()
    assert "internal error" not in err
    assert out.startswith(f"play {play_id}: - by -, started -\n")
    assert "journal integrity: TAMPERED" in out
    if content:
        assert "  line 1: not UTF-8 text" in out
    assert cli(root, "play", "tiny", "--resume", play_id) == 3
    _, err = capsys.readouterr()
    assert err.startswith(f"peaktrade: cannot resume play {play_id}: its journal is TAMPERED")
