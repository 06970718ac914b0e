"""Fixtures of the cluster tests: a real PostgreSQL on loopback (skipped, with the reason, only when it
cannot be had), one fresh database per test, and deployment roots whose desk state is on it."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PgServer, find_problem, use_postgres  # noqa: E402

_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    problem = find_problem()
    if problem:
        print(f"\ncluster tests skipped: {problem}", file=sys.__stderr__)
        pytest.skip(problem)
    server = PgServer()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - the reason is what the skip must show
        server.destroy()
        print(f"\ncluster tests skipped: PostgreSQL did not start: {exc}", file=sys.__stderr__)
        pytest.skip(f"PostgreSQL did not start: {exc}")
    yield server
    server.destroy()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A new, migrated database for this test."""
    from peaktrade.desk.postgres import PostgresDesk

    url = pg_server.create_db(f"t{os.getpid()}_{next(_COUNTER)}")
    store = PostgresDesk(url)
    store.migrate(at="2026-01-01T00:00:00Z")
    store.close()
    return url


@pytest.fixture
def pg_deploy(deploy: Path, pg_url: str) -> Iterator[Path]:
    from peaktrade.desk import reset_cache

    use_postgres(deploy, pg_url)
    reset_cache()
    yield deploy
    reset_cache()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3 server on loopback (moto in server mode); skipped, with the reason, only when moto is missing."""
    import shutil
    import subprocess
    import time
    import urllib.request

    from pgserver import free_port

    exe = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(exe).exists():
        why = "moto_server is not installed (pip install 'moto[server]')"
        print(f"\nartifact tests skipped: {why}", file=sys.__stderr__)
        pytest.skip(why)
    port = free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.skip("moto_server did not start")
            time.sleep(0.2)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    yield url
    proc.terminate()
    proc.wait(10)
