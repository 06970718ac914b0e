"""`peaktrade desk migrate|status` on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from peaktrade.cli import run


def _json(capsys, *argv: str):
    capsys.readouterr()
    assert run(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_sqlite_desk_status_and_recreate(deploy: Path, capsys):
    info = _json(capsys, "--root", str(deploy), "desk", "status", "--json")
    assert info["backend"] == "sqlite" and info["schema_version"] >= 2 and info["agents"] == []
    out = _json(capsys, "--root", str(deploy), "desk", "migrate", "--recreate", "--json")
    assert out["recreated"] is True
    assert _json(capsys, "--root", str(deploy), "desk", "status", "--json")["kill_switch"] == "engaged"


def test_postgres_desk_migrate_and_status(pg_deploy: Path, capsys):
    out = _json(capsys, "--root", str(pg_deploy), "desk", "migrate", "--json")
    assert out["backend"] == "postgresql" and out["before"] == out["schema_version"]
    info = _json(capsys, "--root", str(pg_deploy), "desk", "status", "--json")
    assert info["backend"] == "postgresql" and info["kill_switch"] == "released"
    assert run(["--root", str(pg_deploy), "desk", "migrate", "--recreate"]) == 2
    assert "--yes" in capsys.readouterr().err
    capsys.readouterr()
    assert run(["--root", str(pg_deploy), "desk", "status"]) == 0
    assert "Backend: postgresql" in capsys.readouterr().out
