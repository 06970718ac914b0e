"""Entries of playbooks/ that are not regular files (a folder, a dangling symlink, a symlink loop):
`validate` reports them instead of skipping them, and no command crashes on them."""

from __future__ import annotations

import os
from pathlib import Path


def _break(deploy: Path) -> None:
    pb = deploy / "playbooks"
    (pb / "dir.yaml").mkdir()
    os.symlink("loop2.yaml", pb / "loop1.yaml")
    os.symlink("loop1.yaml", pb / "loop2.yaml")
    os.symlink(str(deploy / "nowhere.yaml"), pb / "dangling.yaml")


def test_validate_reports_folders_and_broken_symlinks_in_the_default_set(cli, deploy):
    _break(deploy)
    code, out, err = cli("--root", str(deploy), "validate")
    assert code == 2, out + err
    lines = out.splitlines()
    assert "playbooks/dangling.yaml:1:1: $: broken symlink (its target does not exist)" in lines
    assert "playbooks/dir.yaml:1:1: $: not a file but a folder" in lines
    assert "playbooks/loop1.yaml:1:1: $: symlink loop" in lines
    assert "playbooks/loop2.yaml:1:1: $: symlink loop" in lines
    assert "Traceback" not in out + err and "internal error" not in err


def test_validate_of_a_symlink_loop_named_explicitly_is_located(cli, deploy):
    _break(deploy)
    code, out, err = cli("--root", str(deploy), "validate", str(deploy / "playbooks" / "loop1.yaml"))
    assert code == 2 and "internal error" not in err
    assert out.splitlines()[0] == "playbooks/loop1.yaml:1:1: $: symlink loop"


def test_playbooks_list_and_play_survive_non_files(cli, deploy):
    _break(deploy)
    code, out, err = cli("--root", str(deploy), "playbooks", "list")
    assert code == 0 and "internal error" not in err
    assert "health-check" in out
    code, out, err = cli("--root", str(deploy), "play", "dir")
    assert code == 2
    assert err.startswith("peaktrade: unknown playbook 'dir'")
    assert "dir," not in err and "loop1" not in err and "dangling" not in err  # not offered as available
