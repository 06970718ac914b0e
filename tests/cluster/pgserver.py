"""A real PostgreSQL on loopback for the cluster tests: the machine's initdb/pg_ctl, as the postgres user.

PostgreSQL refuses to run as root, so under root the server runs as ``postgres`` (``runuser``) in a
temporary folder that user owns. ``find_problem`` says why it cannot be had (the tests then skip with it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(cand, "pg_ctl")):
            return Path(cand)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_problem() -> str | None:
    if _bindir() is None:
        return "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'peaktrade[cluster]')"
    return None


class PgServer:
    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # benchmarks: fsync and synchronous commits as in production
        self.bindir = _bindir()
        assert self.bindir is not None
        self.dir = Path(tempfile.mkdtemp(prefix="peaktrade-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.listen = "127.0.0.1"  # a partition test adds a veth address
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        argv = [str(self.bindir / tool), *args]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=self.dir)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def start(self) -> None:
        # fsync off: test data need not survive a power cut, and the machine's CPU and disk are shared
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses={self.listen} -c max_connections=300"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def use_postgres(root: Path, url: str, **extra: str) -> Path:
    """Point a deployment root's desk state at ``url``."""
    lines = [f'url = "{url}"'] + [f'{k} = "{v}"' for k, v in extra.items()]
    with open(root / "config" / "config.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[desk_state]\n" + "\n".join(lines) + "\n")
    return root
