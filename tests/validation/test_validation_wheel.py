"""`peaktrade init` from a built wheel: the shipped defaults travel as peaktrade/_defaults."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_carries_the_defaults_and_init_uses_them(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w",
                            str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (hatchling from PyPI needed): {build.stderr[-300:]}")
    [wheel] = (tmp_path / "dist").glob("peaktrade-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("config/config.toml", "playbooks/health-check.yaml", "schemas/playbook.schema.json"):
        assert f"peaktrade/_defaults/{rel}" in names, rel
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}  # the unpacked wheel shadows the editable install
    where = subprocess.run([sys.executable, "-c", "from peaktrade.root import defaults_dir; print(defaults_dir())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.strip() == str(site / "peaktrade" / "_defaults")
    init = subprocess.run([sys.executable, "-m", "peaktrade", "init", str(tmp_path / "desk")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "desk" / "playbooks" / "shutdown.yaml").read_bytes() == \
        (site / "peaktrade" / "_defaults" / "playbooks" / "shutdown.yaml").read_bytes()
    check = subprocess.run([sys.executable, "-m", "peaktrade", "validate"], capture_output=True, text=True,
                           env=env, cwd=tmp_path / "desk", timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
