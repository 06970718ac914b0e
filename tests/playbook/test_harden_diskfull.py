"""Issue 10, class 1: on a full disk every append is whole or absent and the error is one clear line.

The disk is a real, small tmpfs (``mount -t tmpfs -o size=...``, root only); where mounting is not
allowed the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from pb_helpers import write_playbook

from peaktrade.fsutil import StorageError, append_line
from peaktrade.oplog import append_operation
from peaktrade.playbook.journal import Journal, verify_journal
from peaktrade.root import Root


def _mount(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(res.stderr or res.stdout).strip() or 'not root'})")


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 KB tmpfs, unmounted afterwards."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    _mount(mnt, "256k")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(disk: Path, leave: int = 0) -> None:
    """Fill the disk, then free ``leave`` bytes again."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))


def test_journal_on_a_full_disk_keeps_whole_records_and_verifies(small_disk: Path):
    path = small_disk / "plays" / "p1" / "journal.jsonl"
    journal = Journal(path)
    _fill(small_disk, leave=3 * 4096)
    with pytest.raises(StorageError) as err:
        for i in range(1000):  # ~2 KB records: the disk is full after a few
            journal.append("step_finished", id=f"s{i}", output="x" * 2000)
    journal.close()
    msg = str(err.value)
    assert "journal.jsonl" in msg and "no space left" in msg and "complete record" in msg
    assert "\n" not in msg
    check = verify_journal(path)
    assert check.ok, check.problems  # no half record, the head names the last whole one
    assert len(check.records) == journal.seq >= 1
    assert path.read_bytes().endswith(b"\n")
    # room again: the same journal goes on, the chain intact
    (small_disk / "filler").unlink()
    again = Journal(path)
    again.append("play_resumed", play_id="p1")
    again.close()
    assert verify_journal(path).ok


def test_operations_log_on_a_full_disk_is_unchanged(small_disk: Path):
    root = Root(small_disk)
    append_operation(root, operator="alice", what="health-check", outcome="succeeded")
    _fill(small_disk)
    with pytest.raises(StorageError) as err:
        for _ in range(100):  # a field is clipped to 500 characters: the page's rest fills after a few lines
            before = root.operations_log.read_bytes()
            append_operation(root, operator="alice", what="x" * 450, outcome="succeeded")
    assert "operations.log" in str(err.value) and "was not written" in str(err.value)
    assert root.operations_log.read_bytes() == before  # the refused line left nothing behind
    assert before.endswith(b"\n") and all(b"outcome=succeeded" in ln for ln in before.splitlines())


def test_append_line_is_whole_or_absent_on_eio_like_refusals(small_disk: Path):
    target = small_disk / "events.jsonl"
    append_line(target, "first")
    _fill(small_disk)
    with pytest.raises(StorageError):
        append_line(target, "y" * 100_000)
    assert target.read_text() == "first\n"


def test_run_log_writer_on_a_full_disk_raises_storage_error_and_leaves_no_tmp(small_disk: Path):
    from peaktrade.runtime.writer import RunLogWriter

    run_dir = small_disk / "live_runs" / "testnet_20260101_000000_abcdef"
    writer = RunLogWriter(run_dir, compact_every=50)
    _fill(small_disk, leave=8 * 4096)
    with pytest.raises(StorageError) as err:
        for i in range(100_000):
            writer.append({"kind": "bar", "symbol": "BTC/EUR", "equity": 1000.0 + i, "error": None})
    assert "events.jsonl" in str(err.value) and "complete event" in str(err.value)
    with pytest.raises(StorageError):
        writer.close()  # the final compaction cannot be written either: a clean, typed error
    assert not list(run_dir.glob(".*.tmp")), "temporary files must be removed"
    lines = (run_dir / "events.jsonl").read_bytes().splitlines(keepends=True)
    assert lines and all(line.endswith(b"\n") for line in lines)
    steps = [json.loads(line)["step"] for line in lines]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


@pytest.mark.slow
def test_play_on_a_full_disk_is_one_clear_line_and_resumes_after(tmp_path: Path):
    """The CLI case of the issue: no 'internal error', exit 1, the journal verifies, --resume works."""
    import shutil

    from pb_helpers import REPO

    base = tmp_path / "deploy"
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, base / d)
    root = Root(base)
    steps = "\n".join(f"""  - id: s{i}
    title: Step {i}
    effect: read
    action: test.echo
    with: {{message: "{'m' * 3000}"}}""" for i in range(40))
    write_playbook(root, "noisy", "steps:\n" + steps + "\n")
    var = base / "var" / "plays"  # the plays only: the desk state beside them reports its own full disk
    _mount(var, "1m")
    try:
        _fill(var, leave=6 * 4096)
        # in-process: test.echo is registered by pb_helpers in this process only
        code, err = _play_in_process(root)
        assert code == 1, err
        assert "internal error" not in err.lower() and "Traceback" not in err
        assert "no space left" in err and "journal.jsonl" in err
        (play_dir,) = [p for p in var.iterdir() if p.is_dir()]
        check = verify_journal(play_dir / "journal.jsonl")
        assert check.ok, check.problems
        (var / "filler").unlink()
        code2, err2 = _play_in_process(root, "--resume", play_dir.name)
        assert code2 == 0, err2
        assert verify_journal(play_dir / "journal.jsonl").ok
    finally:
        subprocess.run(["umount", "-l", str(var)], capture_output=True)


def _play_in_process(root: Root, *extra: str) -> tuple[int, str]:
    """The CLI in-process (the test-only actions are registered here), stderr captured."""
    import contextlib
    import io

    from peaktrade.cli import run

    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = run(["--root", str(root.path), "play", "noisy", "--yes", *extra])
    return code, err.getvalue() + out.getvalue()


def test_meta_json_can_still_record_failed_on_a_full_disk(small_disk: Path):
    """The session's last word (status failed and why) fits meta.json's own block."""
    from peaktrade.runtime import runlog

    run_dir = small_disk / "live_runs" / "testnet_20260101_000000_abcdef"
    run_dir.mkdir(parents=True)
    runlog.write_meta(run_dir, {"run_id": run_dir.name, "status": "running", "mode": "testnet"})
    _fill(small_disk)
    with pytest.raises(StorageError):  # an ordinary atomic write cannot even create its temporary file
        from peaktrade.fsutil import atomic_write_text

        atomic_write_text(run_dir / "other.json", "{}")
    meta = runlog.update_meta(run_dir, status="failed", error="cannot write events.jsonl: no space left")
    assert meta["status"] == "failed"
    assert json.loads((run_dir / "meta.json").read_text())["status"] == "failed"
    assert not list(run_dir.glob(".*.tmp"))


def test_a_read_only_file_system_is_one_clear_line(small_disk: Path):
    root = Root(small_disk)
    append_operation(root, operator="alice", what="health-check", outcome="succeeded")
    res = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot remount read-only here ({res.stderr.strip()})")
    try:
        with pytest.raises(StorageError) as err:
            append_operation(root, operator="alice", what="health-check", outcome="succeeded")
        assert "operations.log" in str(err.value) and "read-only (EROFS)" in str(err.value)
        with pytest.raises(StorageError):
            Journal(small_disk / "plays" / "p2" / "journal.jsonl")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], capture_output=True)
