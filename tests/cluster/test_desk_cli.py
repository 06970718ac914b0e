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


def test_host_pin_needs_a_desk_on_several_hosts(deploy: Path, capsys):
    assert run(["--root", str(deploy), "runs", "start-testnet", "--host", "h1"]) == 2
    assert "--host needs a desk on several hosts" in capsys.readouterr().err


def test_start_queues_the_run_for_its_host_with_its_meta(pg_deploy: Path, tmp_path: Path, capsys):
    import shutil

    from peaktrade.cluster import claims
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    rec = _json(capsys, "--root", str(pg_deploy), "runs", "start-testnet", "--host", "h2", "--steps", "3", "--json")
    assert rec["host"] == "h2" and rec["pid"] is None and rec["status"] == "starting"
    store = open_desk(Root(pg_deploy))
    other = tmp_path / "h2"  # the host that claims it has no run folder yet
    shutil.copytree(pg_deploy / "config", other / "config")
    [claimed] = store.claim_runs("h2", limit=5, at="2026-01-01T00:00:00Z")
    claims.materialize(Root(other), store, claimed)
    meta = json.loads((other / "live_runs" / rec["run_id"] / "meta.json").read_text())
    assert meta["steps"] == 3 and meta["run_id"] == rec["run_id"]
    capsys.readouterr()
    assert run(["--root", str(pg_deploy), "runs", "status"]) == 0
    out = capsys.readouterr().out
    assert "Host" in out and "h2" in out
