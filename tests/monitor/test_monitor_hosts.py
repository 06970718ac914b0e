"""The host column of ``monitor overview`` (issue 13): ``-`` on a one-host desk, the host a run is claimed by
or pinned to otherwise; runs the desk state places on another host are rows of their own, from the desk
state (their run log is on that host), and the meta.json this host queued such a run with is not taken for
its run log. The end-to-end test across two hosts with object storage: tests/cluster/test_artifact_readers.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from peaktrade.cli import run
from peaktrade.desk import open_desk
from peaktrade.desk.store import RunRecord
from peaktrade.monitor.synthetic import make_events, write_run
from peaktrade.monitor.views import overview
from peaktrade.root import Root

START = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
HERE = "shadow_20251207_120000_aaaaaa"
THERE = "testnet_20251207_130000_bbbbbb"
QUEUED = "testnet_20251207_140000_cccccc"


def _record(run_id: str, host: str, status: str = "running") -> RunRecord:
    return RunRecord(run_id, run_id.split("_")[0], "ma_crossover", "ETH/EUR", "5m", "standard", status=status,
                     pid=1, created_at="2025-12-07T12:00:00Z", started_at="2025-12-07T12:00:00Z", host=host)


def test_one_host_desk_shows_a_dash(deploy, capsys):
    write_run(deploy / "live_runs", HERE, make_events(3, start=START, equity=[100.0, 101.0, 102.0]))
    [row] = overview(Root(deploy))
    assert row["host"] is None
    assert run(["--root", str(deploy), "monitor", "overview", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["host"] is None
    assert run(["--root", str(deploy), "monitor", "overview"]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["RUN", "ID", "HOST"] and line.split()[:3] == [HERE, "-", "shadow"]
    assert header.index("HOST") == line.index(" - ") + 1  # the dash stands under its title


def test_runs_of_other_hosts_come_from_the_desk_state(deploy, monkeypatch):
    monkeypatch.setenv("PEAKTRADE_HOST_ID", "h1")
    root = Root(deploy)
    write_run(deploy / "live_runs", HERE, make_events(3, start=START, equity=[100.0, 101.0, 102.0]))
    # this host queued QUEUED for host h2: all it has is the meta.json it queued it with
    (deploy / "live_runs" / QUEUED).mkdir()
    (deploy / "live_runs" / QUEUED / "meta.json").write_text(json.dumps({"run_id": QUEUED, "status": "starting"}))
    store = open_desk(root)
    store.add_run(_record(HERE, "h1"))
    store.add_run(_record(THERE, "h2"))
    store.add_run(_record(QUEUED, "h2", status="stopped"))
    rows = {r["run_id"]: r for r in overview(root)}
    assert set(rows) == {HERE, THERE}  # QUEUED ended on h2: not active, not its stale meta.json here
    assert rows[HERE]["host"] == "h1" and rows[HERE]["equity"] == 102.0
    there = rows[THERE]
    assert (there["host"], there["active"], there["status"], there["symbol"]) == ("h2", True, "running", "ETH/EUR")
    assert there["equity"] is None and there["events"] == 0  # its run log is on h2
    rows = {r["run_id"]: r for r in overview(root, include_inactive=True)}
    assert rows[QUEUED]["host"] == "h2" and rows[QUEUED]["status"] == "stopped" and rows[QUEUED]["active"] is False
