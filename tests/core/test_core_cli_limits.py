"""Negative listing limits are usage errors (exit 2), not silently odd listings."""

import subprocess
import sys


def test_negative_limits_are_usage_errors(tmp_path):
    root = tmp_path / "r"
    exe = [sys.executable, "-m", "peaktrade"]
    subprocess.run([*exe, "init", str(root)], check=True, capture_output=True)
    for argv in (["experiments", "list", "--limit", "-1"], ["runs", "status", "--limit", "0"],
                 ["runs", "tail", "--run-id", "x", "--limit", "-3"], ["plays", "list", "--limit", "0"]):
        res = subprocess.run([*exe, "--root", str(root), *argv], capture_output=True, text=True)
        assert res.returncode == 2, (argv, res.stdout, res.stderr)
        assert "Invalid value for '--limit'" in res.stderr and "Traceback" not in res.stderr


def test_root_is_found_from_a_subfolder_like_git_does(tmp_path):
    root = tmp_path / "desk"
    exe = [sys.executable, "-m", "peaktrade"]
    subprocess.run([*exe, "init", str(root)], check=True, capture_output=True)
    res = subprocess.run([*exe, "playbooks", "list", "--json"], capture_output=True, text=True,
                         cwd=root / "playbooks")
    assert res.returncode == 0, res.stderr
    outside = subprocess.run([*exe, "playbooks", "list"], capture_output=True, text=True, cwd=tmp_path)
    assert outside.returncode == 2 and "is not a deployment root" in outside.stderr
