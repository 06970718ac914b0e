"""Closed run logs and journals copied to S3 (moto on loopback), their hashes in the desk state; a host
that does not have a run reads the verified copy; a copy that changed is refused; the agent copies the
closed runs of its host once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peaktrade.desk.store import RunRecord


def _bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)


def _closed_run(root: Path, store, run_id: str, host: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    run_dir = root / "live_runs" / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "meta.json").write_text(json.dumps({"run_id": run_id, "status": "completed"}))
    pq.write_table(pa.table({"step": [1, 2, 3], "price": [1.0, 2.0, 3.0]}), run_dir / "events.parquet")
    store.add_run(RunRecord(run_id, "shadow", "ma", "BTC/EUR", "1m", "standard", status="completed", pid=1,
                            created_at="2026-01-01T00:00:00Z", host=host))
    return run_dir


def _configure(root: Path, endpoint: str, bucket: str) -> None:
    with open(root / "config" / "config.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[artifacts]\nurl = "s3://{bucket}/desk1"\nendpoint_url = "{endpoint}"\nregion = "us-east-1"\n')


def test_copy_fetch_and_tamper(pg_deploy: Path, s3_server: str, tmp_path: Path):
    import boto3

    from peaktrade.artifacts import s3
    from peaktrade.artifacts.s3 import ArtifactError
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    _bucket(s3_server, "desk-art")
    _configure(pg_deploy, s3_server, "desk-art")
    root = Root(pg_deploy)
    store = open_desk(root)
    run_id = "shadow_20260101_000000_abcdef"
    run_dir = _closed_run(pg_deploy, store, run_id, "h1")
    t = s3.configured(root)
    rows = s3.upload_run(root, t, store, run_id, host="h1")
    assert {r.name for r in rows} == {"meta.json", "events.parquet"}
    assert all(r.url.startswith(f"s3://desk-art/desk1/runs/{run_id}/") for r in rows)
    assert {r.name: r.sha256 for r in store.list_artifacts(run_id)} == {r.name: r.sha256 for r in rows}

    other = tmp_path / "host-b"  # another host: the run folder is not there
    (other / "var").mkdir(parents=True)
    import shutil

    shutil.copytree(pg_deploy / "config", other / "config")
    got = s3.run_dir_anywhere(Root(other), store, run_id)
    assert got != run_dir and (got / "events.parquet").read_bytes() == (run_dir / "events.parquet").read_bytes()
    import pyarrow.parquet as pq

    assert pq.read_table(got / "events.parquet").num_rows == 3

    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").put_object(
        Bucket="desk-art", Key=f"desk1/runs/{run_id}/meta.json", Body=b"{}")
    (got / "meta.json").unlink()
    with pytest.raises(ArtifactError, match="SHA-256 differs"):
        s3.fetch(Root(other), t, store, run_id)
    with pytest.raises(Exception, match="not closed"):
        store.add_run(RunRecord("shadow_20260101_000001_abcdef", "shadow", "ma", "BTC/EUR", "1m", "standard",
                                created_at="2026-01-01T00:00:01Z"))
        s3.upload_run(root, t, store, "shadow_20260101_000001_abcdef", host="h1")


def test_missing_bucket_is_one_clear_error(pg_deploy: Path, s3_server: str):
    from peaktrade.artifacts import s3
    from peaktrade.artifacts.s3 import ArtifactError
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    _configure(pg_deploy, s3_server, "no-such-bucket")
    root = Root(pg_deploy)
    store = open_desk(root)
    _closed_run(pg_deploy, store, "shadow_20260101_000002_abcdef", "h1")
    with pytest.raises(ArtifactError, match="s3://no-such-bucket: uploading .* failed \\(NoSuchBucket"):
        s3.upload_run(root, s3.configured(root), store, "shadow_20260101_000002_abcdef", host="h1")


def test_agent_copies_its_closed_runs_once(pg_deploy: Path, s3_server: str):
    from peaktrade.cluster.agent import Agent
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    _bucket(s3_server, "desk-agent")
    _configure(pg_deploy, s3_server, "desk-agent")
    root = Root(pg_deploy)
    store = open_desk(root)
    _closed_run(pg_deploy, store, "shadow_20260101_000003_abcdef", "h1")
    _closed_run(pg_deploy, store, "shadow_20260101_000004_abcdef", "h2")  # another host's: not ours to copy
    from peaktrade.desk.store import PlayRow

    play = pg_deploy / "var" / "plays" / "20260101-000000-abcdef"
    play.mkdir(parents=True)
    (play / "journal.jsonl").write_text('{"seq": 1}\n')
    store.record_play(PlayRow(play.name, "shutdown", "alice", "2026-01-01T00:00:00Z", outcome="succeeded"))
    lines: list[str] = []
    agent = Agent(root, "h1", log=lines.append)
    agent.tick(store)
    agent.tick(store)
    assert len(store.list_artifacts("shadow_20260101_000003_abcdef")) == 2
    assert store.list_artifacts("shadow_20260101_000004_abcdef") == []
    assert sum("copied" in line for line in lines) == 1
    [journal] = store.list_artifacts(play.name)
    assert journal.kind == "journal" and journal.url.endswith(f"/plays/{play.name}/journal.jsonl")
