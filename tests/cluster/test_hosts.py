"""Sessions on several hosts, each its own process on one PostgreSQL desk state: a kill switch engaged on
one host blocks the others within a second; a stopped server blocks every session (nothing crashes) and
all resumes when it returns; reservations of one account from two hosts never pass a limit together;
one approval used by plays on two hosts at once is held by exactly one."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pgserver import PgServer, use_postgres

PROBE = str(Path(__file__).with_name("hostproc.py"))
T0 = "2026-01-01T00:00:00Z"


def _host_root(deploy: Path, tmp_path: Path, name: str, url: str) -> Path:
    root = tmp_path / name
    shutil.copytree(deploy, root)
    return use_postgres(root, url)


def _states(out: Path) -> list[tuple[float, str, str]]:
    if not out.exists():
        return []
    return [(float(t), s, r) for t, s, r in (line.split() for line in out.read_text().splitlines() if line)]


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _watchers(roots: list[Path], tmp_path: Path) -> list[tuple[subprocess.Popen, Path]]:
    procs = []
    for i, root in enumerate(roots):
        out = tmp_path / f"watch-{i}.log"
        procs.append((subprocess.Popen([sys.executable, PROBE, "watch", str(root), str(out)]), out))
    return procs


def _stop(procs) -> None:
    for _, out in procs:
        Path(str(out) + ".stop").touch()
    for proc, _ in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        assert proc.returncode == 0  # nothing crashed


@pytest.mark.slow
def test_engage_on_one_host_blocks_the_others_within_a_second(deploy: Path, tmp_path: Path, pg_url: str):
    from peaktrade.desk.postgres import PostgresDesk

    roots = [_host_root(deploy, tmp_path, f"host-{h}", pg_url) for h in ("b", "c")]
    procs = _watchers(roots, tmp_path)
    try:
        _wait(lambda: all(_states(out) for _, out in procs), 60, "the sessions' first read")
        time.sleep(0.5)  # past the second read: their LISTEN watchers run
        t0 = time.time()
        PostgresDesk(pg_url, var_dir=tmp_path / "host-a" / "var", host_id="a").engage(reason="drill", by="alice",
                                                                                      at=T0)
        _wait(lambda: all(_states(out)[-1][1] == "KILLED" for _, out in procs), 10, "the engage to reach them")
        for _, out in procs:
            seen = next(t for t, s, _ in _states(out) if s == "KILLED")
            assert seen - t0 < 1.0, f"the engage took {seen - t0:.3f} s to reach a session"
    finally:
        _stop(procs)


@pytest.mark.slow
def test_stopped_server_blocks_every_session_and_all_resumes(deploy: Path, tmp_path: Path):
    from peaktrade.desk.postgres import PostgresDesk

    server = PgServer()
    procs = []
    try:
        server.start()
        PostgresDesk(server.url()).migrate(at=T0)
        roots = [_host_root(deploy, tmp_path, f"host-{h}", server.url()) for h in ("a", "b")]
        procs = _watchers(roots, tmp_path)
        _wait(lambda: all(_states(out)[-1:] and _states(out)[-1][1] == "ACTIVE" for _, out in procs), 60, "ACTIVE")
        server.stop()
        _wait(lambda: all(_states(out)[-1][1:] == ("KILLED", "False") for _, out in procs), 15,
              "the sessions to block while the server is down")
        assert all(proc.poll() is None for proc, _ in procs)  # nothing crashed
        server.start()
        _wait(lambda: all(_states(out)[-1][1] == "ACTIVE" for _, out in procs), 30, "the sessions to resume")
    finally:
        _stop(procs)
        server.destroy()


def _run_all(argvs: list[list[str]]) -> list[str]:
    procs = [subprocess.Popen([sys.executable, PROBE, *a], stdout=subprocess.PIPE, text=True) for a in argvs]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    return outs


@pytest.mark.slow
def test_two_hosts_of_one_account_never_pass_the_exposure_limit_together(pg_url: str):
    from peaktrade.desk.postgres import PostgresDesk

    store = PostgresDesk(pg_url)
    store.ensure_account("testnet", cash=100_000.0)
    accepted = _run_all([["reserve", pg_url, "a", "15"], ["reserve", pg_url, "b", "15"]])
    assert sum(int(x) for x in accepted) == 10  # 10 x 100 EUR = max_total_exposure, across both hosts
    assert len(store.open_intents("testnet")) == 10


def test_one_approval_used_by_plays_on_two_hosts_is_held_once(pg_url: str):
    holders = _run_all([["bind", pg_url, h, "req-20260101-1"] for h in ("a", "b", "c")])
    assert len(set(holders)) == 1 and holders[0].startswith("play-on-")
