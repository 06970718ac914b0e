"""The readers of another host's runs and plays, end to end through the CLI (DESIGN 11, issue 13 item 4).

Two deployment roots are two hosts (``PEAKTRADE_HOST_ID`` a and b) sharing one PostgreSQL desk and one bucket
(moto on loopback). A real session and a real play run on host a and are copied to object storage as the
agent of a copies them; on host b, ``monitor``, ``experiments``, ``divergence`` and ``plays verify`` read the
verified copies and show what host a shows. A copy changed in the bucket, a run or play without a copy, and
a run still active on its host fail closed: one line, non-zero exit, never a figure or an "ok"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from test_artifacts import _bucket, _configure

from peaktrade.desk.store import PlayRow, RunRecord

pytestmark = pytest.mark.slow


def cli(root: Path, host: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PEAKTRADE_HOST_ID": host, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], env=env,
                          capture_output=True, text=True, timeout=180)


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _host(root: Path, tmp_path: Path, name: str) -> Path:
    """Another host: the same config (desk state, bucket), its own var/, live_runs/ and reports."""
    other = tmp_path / f"host-{name}"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns("var", "live_runs", "logs", "reports"))
    (other / "live_runs").mkdir()
    return other


def _s3(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def desk(pg_deploy: Path, s3_server: str, tmp_path: Path):
    """(host a's root, host b's root, bucket, desk store, artifacts target)."""
    from peaktrade.artifacts import s3
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    bucket = f"readers-{uuid.uuid4().hex[:10]}"
    _bucket(s3_server, bucket)
    _configure(pg_deploy, s3_server, bucket)
    root_a = Root(pg_deploy)
    return pg_deploy, _host(pg_deploy, tmp_path, "b"), bucket, open_desk(root_a), s3.configured(root_a)


@pytest.fixture
def run_of_a(desk):
    """A real shadow session run on host a, closed, and copied to object storage by host a."""
    from peaktrade.artifacts import s3
    from peaktrade.root import Root

    a, _, _, store, target = desk
    cfg = a / "config" / "config.toml"  # shadow runs need environment.mode = "paper" (on host a)
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "paper"', 1))
    _ok(cli(a, "a", "session", "run", "--mode", "shadow", "--steps", "25"))
    [run_dir] = list((a / "live_runs").iterdir())
    run_id = run_dir.name
    # a foreground session on a desk on several hosts is its host's run (its agent copies it when it closes)
    assert store.get_run(run_id).host == "a"
    assert store.get_run(run_id).status == "completed"
    s3.upload_run(Root(a), target, store, run_id, host="a")
    return run_id


def test_host_b_reads_a_run_of_host_a(desk, run_of_a, tmp_path):
    a, b, _, _, _ = desk
    run_id = run_of_a
    assert not (b / "live_runs" / run_id).exists()

    here = json.loads(_ok(cli(a, "a", "monitor", "run", "--run-id", run_id, "--json")))
    there = json.loads(_ok(cli(b, "b", "monitor", "run", "--run-id", run_id, "--json")))
    assert there["metrics"] == here["metrics"] and there["last_events"] == here["last_events"]
    assert (b / "var" / "artifacts" / run_id / "events.parquet").is_file()  # read from the verified copy

    [row] = [r for r in json.loads(_ok(cli(b, "b", "monitor", "overview", "--include-inactive", "--json")))
             if r["run_id"] == run_id]
    assert row["host"] == "a" and row["status"] == "completed" and row["equity"] == here["metrics"]["equity"]
    text = _ok(cli(b, "b", "monitor", "overview", "--include-inactive")).splitlines()
    assert text[0].split()[:3] == ["RUN", "ID", "HOST"]
    assert [line.split()[1] for line in text if line.startswith(run_id)] == ["a"]

    mine = json.loads(_ok(cli(a, "a", "experiments", "list", "--json")))
    theirs = json.loads(_ok(cli(b, "b", "experiments", "list", "--json")))
    assert theirs == mine and mine[0]["run_id"] == run_id and mine[0]["host"] == "a" and mine[0]["bars"] > 0
    listed = _ok(cli(b, "b", "experiments", "list", "--run-id", run_id)).splitlines()
    assert listed[0].split()[-1] == "Host" and listed[2].split()[-1] == "a"
    csv_a, csv_b = tmp_path / "a.csv", tmp_path / "b.csv"
    _ok(cli(a, "a", "experiments", "list", "--run-id", run_id, "--export-csv", str(csv_a)))
    _ok(cli(b, "b", "experiments", "list", "--run-id", run_id, "--export-csv", str(csv_b)))
    assert csv_b.read_text() == csv_a.read_text() and len(csv_b.read_text().splitlines()) == 26

    div_a = cli(a, "a", "divergence", "--run-id", run_id, "--json")
    div_b = cli(b, "b", "divergence", "--run-id", run_id, "--json")
    assert div_b.returncode == div_a.returncode, div_b.stderr
    assert json.loads(div_b.stdout)["run"] == json.loads(div_a.stdout)["run"]

    status = _ok(cli(b, "b", "runs", "status")).splitlines()  # runs status names the host too
    assert status[0].split()[-1] == "Host" and [ln.split()[-1] for ln in status if ln.startswith(run_id)] == ["a"]


def test_a_changed_copy_fails_closed_everywhere(desk, run_of_a, tmp_path, s3_server):
    a, _, bucket, _, _ = desk
    run_id = run_of_a
    _s3(s3_server).put_object(Bucket=bucket, Key=f"desk1/runs/{run_id}/events.parquet", Body=b"not the run log")
    c = _host(a, tmp_path, "c")  # a host that never read the good copy
    for args in (("monitor", "run", "--run-id", run_id), ("experiments", "list"),
                 ("experiments", "list", "--run-id", run_id, "--export-csv", str(tmp_path / "x.csv")),
                 ("divergence", "--run-id", run_id)):
        proc = cli(c, "c", *args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        [line] = proc.stderr.strip().splitlines()
        assert f"s3://{bucket}/desk1/runs/{run_id}/events.parquet: its SHA-256 differs" in line, line
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "x.csv").exists()
    proc = cli(c, "c", "monitor", "overview", "--include-inactive")
    assert proc.returncode == 1
    [row] = [ln for ln in proc.stdout.splitlines() if ln.startswith(run_id)]
    assert row.split()[1:] == ["a", "shadow", "ma_crossover", "BTC/EUR", "1m", "no", "-", "-", "-", "-"]  # no figure
    assert f"! run {run_id} of host a: s3://{bucket}/desk1/runs/{run_id}/events.parquet: its SHA-256 differs" \
        in proc.stdout


def test_runs_without_a_readable_copy(desk, tmp_path):
    a, b, _, store, _ = desk
    closed, active = "shadow_20260101_000000_aaaaaa", "shadow_20260101_000001_bbbbbb"
    store.add_run(RunRecord(closed, "shadow", "ma", "BTC/EUR", "1m", "standard", status="lost",
                            created_at="2026-01-01T00:00:00Z", host="a"))
    store.add_run(RunRecord(active, "shadow", "ma", "BTC/EUR", "1m", "standard", status="running", pid=1,
                            created_at="2026-01-01T00:00:01Z", host="a"))
    proc = cli(b, "b", "monitor", "run", "--run-id", closed)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"peaktrade: run {closed} (lost on host a) has no copy in object storage yet (the desk state records none; "
        "the agent of that host copies closed runs)")
    proc = cli(b, "b", "divergence", "--run-id", active)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"peaktrade: run {active} is running on host a: its run log is read there until it closes (then from its "
        "copy in object storage)")
    # the lists show both from the desk state, without figures (nothing to read yet), and exit 0
    rows = {r["run_id"]: r for r in json.loads(_ok(cli(b, "b", "experiments", "list", "--json")))}
    assert rows[active]["host"] == "a" and rows[active]["status"] == "running" and rows[active]["bars"] is None
    assert rows[closed]["status"] == "lost" and rows[closed]["pnl"] is None
    over = {r["run_id"]: r for r in json.loads(_ok(cli(b, "b", "monitor", "overview", "--json")))}
    assert set(over) == {active, closed} and over[active]["active"] is True  # the lost one until acknowledged
    assert over[active]["host"] == "a" and over[active]["equity"] is None
    assert over[closed]["status"] == "lost" and over[closed]["pnl"] is None
    assert f"acknowledge: peaktrade runs ack --run-id {closed}" in _ok(cli(b, "b", "monitor", "overview"))

    # host a is gone with the run's folder: host b acknowledges the lost run in the desk state, and the shared
    # run_crashed alert the agents raised for it resolves for every host
    from peaktrade.desk.store import AlertRow

    store.put_alert(AlertRow(f"run_crashed|{closed}", "run_crashed", closed, "CRITICAL", "firing", "run lost", "",
                             "2026-01-01T00:00:05Z", None))
    done = json.loads(_ok(cli(b, "b", "runs", "ack", "--run-id", closed, "--note", "host a's disk died; no position",
                              "--operator", "erin", "--json")))
    assert (done["status"], done["by"]) == ("lost", "erin")
    assert store.alert(f"run_crashed|{closed}").status == "resolved"
    assert not (b / "live_runs" / closed).exists()  # nothing written as if the run were this host's
    c = _host(a, tmp_path, "c")
    for root, host in ((b, "b"), (c, "c")):  # acknowledged for every host: read from the desk state
        over = {r["run_id"]: r for r in json.loads(_ok(cli(root, host, "monitor", "overview", "--json")))}
        assert set(over) == {active}
    over = {r["run_id"]: r for r in json.loads(_ok(cli(b, "b", "monitor", "overview", "--include-inactive",
                                                        "--json")))}
    assert set(over) == {active, closed} and over[closed]["status"] == "lost" and over[closed]["pnl"] is None
    proc = cli(b, "b", "runs", "ack", "--run-id", active, "--note", "x")
    assert proc.returncode == 2 and "is running, not crashed" in proc.stderr


def _play_of_a(desk) -> str:
    from peaktrade.artifacts import s3
    from peaktrade.root import Root

    a, _, _, store, target = desk
    _ok(cli(a, "a", "play", "health-check", "--yes", "--operator", "alice"))
    [play_dir] = list((a / "var" / "plays").iterdir())
    s3.upload_play(Root(a), target, store, play_dir.name, host="a")
    return play_dir.name


def test_plays_verify_reads_a_play_of_host_a(desk, tmp_path, s3_server):
    a, b, bucket, store, _ = desk
    play_id = _play_of_a(desk)
    [mine] = json.loads(_ok(cli(a, "a", "plays", "verify", play_id, "--json")))
    [theirs] = json.loads(_ok(cli(b, "b", "plays", "verify", play_id, "--json")))
    assert theirs == mine and theirs["ok"] and theirs["signature"] == "valid (desk hmac)"
    assert (b / "var" / "artifacts" / play_id / "journal.jsonl").is_file()
    assert _ok(cli(b, "b", "plays", "verify")).splitlines()[0] == f"{play_id}  ok  signature valid (desk hmac)"
    # one list of plays: host b lists host a's play from the desk's index, and shows it from the verified copy
    [listed] = [r for r in json.loads(_ok(cli(b, "b", "plays", "list", "--json"))) if r["play_id"] == play_id]
    assert (listed["playbook"], listed["outcome"]) == ("health-check", "succeeded")
    shown_a = json.loads(_ok(cli(a, "a", "plays", "show", play_id, "--json")))
    shown_b = json.loads(_ok(cli(b, "b", "plays", "show", play_id, "--json")))
    assert shown_b["steps"] == shown_a["steps"] and shown_b["integrity"] == "ok" == shown_a["integrity"]

    # the journal's copy changed in the bucket: a host that reads it says it could not be verified
    _s3(s3_server).put_object(Bucket=bucket, Key=f"desk1/plays/{play_id}/journal.jsonl", Body=b"{}\n")
    c = _host(a, tmp_path, "c")
    for args in (("plays", "verify", play_id), ("plays", "verify")):
        proc = cli(c, "c", *args)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        assert lines[0] == f"{play_id}  FAILED: unverifiable  signature n/a (not verified)"
        assert lines[1].startswith(f"  the record of play {play_id} could not be verified: s3://{bucket}/desk1/plays/"
                                   f"{play_id}/journal.jsonl: its SHA-256 differs")
        assert " ok " not in proc.stdout
    [check] = json.loads(cli(c, "c", "plays", "verify", play_id, "--json").stdout)
    assert check["ok"] is False and check["findings"] == ["unverifiable"]
    proc = cli(c, "c", "plays", "show", play_id)
    assert proc.returncode == 1 and "its SHA-256 differs" in proc.stderr and "Traceback" not in proc.stderr

    # a play the desk state lists as ended whose journal was never copied: not verified either
    store.record_play(PlayRow("20260101-000000-abcdef", "shutdown", "bob", "2026-01-01T00:00:00Z",
                              outcome="succeeded", head="0" * 64, records=3))
    proc = cli(b, "b", "plays", "verify", "20260101-000000-abcdef")
    assert proc.returncode == 1 and proc.stdout.splitlines()[1] == (
        "  the record of play 20260101-000000-abcdef could not be verified: 20260101-000000-abcdef: not on this "
        "host and no copy in object storage (the desk state records none)")
