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
