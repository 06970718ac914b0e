"""Is a process still the one we started? (Linux /proc; pid reuse is told apart by start time.)"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    end = raw.rfind(")")
    if end < 0:
        return None
    return raw[end + 2:].split()


def start_time(pid: int) -> int | None:
    """The process start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or None."""
    fields = _stat_fields(pid)
    if not fields or len(fields) < 20:
        return None
    return int(fields[19])


def is_alive(pid: int | None, started: int | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when ``started`` is given, is the same process."""
    if not pid or pid <= 0:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return False
    if fields[0] in ("Z", "X", "x"):
        return False
    if started is not None and int(fields[19]) != int(started):
        return False  # the pid was reused by another process
    return True


def reap(pid: int) -> None:
    """Collect a zombie child of this process (a no-op for processes that are not our children)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


@dataclass(frozen=True)
class WorkerProcess:
    pid: int
    start_time: int | None
    run_id: str
    cmdline: str


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            raw = fh.read()
    except OSError:  # gone meanwhile, or not ours to read
        return []
    return [a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0")]


def _option(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1:]
    return None


def _is_worker(argv: list[str], module: str) -> bool:
    script = module.replace(".", "/") + ".py"
    return any(a == module and i > 0 and argv[i - 1] == "-m" for i, a in enumerate(argv)) or \
        any(a.endswith(script) for a in argv)


def find_workers(root: Path, run_id_re: re.Pattern[str], *,
                 module: str = "peaktrade.runtime.worker") -> list[WorkerProcess]:
    """The live worker processes of deployment ``root``, found without any registry: their command line
    is ``… -m <module> --run-id <id> --root <root> …`` (a relative ``--root`` is taken from their cwd)."""
    try:
        want = Path(root).resolve()
    except OSError:
        want = Path(root)
    me = os.getpid()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        argv = _cmdline(pid)
        if not argv or not _is_worker(argv, module):
            continue
        run_id, where = _option(argv, "--run-id"), _option(argv, "--root")
        if not run_id or not run_id_re.match(run_id) or not where:
            continue
        path = Path(where)
        try:
            if not path.is_absolute():
                path = Path(os.readlink(f"/proc/{pid}/cwd")) / path
            if path.resolve() != want:
                continue
        except OSError:
            continue
        started = start_time(pid)
        if not is_alive(pid, started):
            continue
        found.append(WorkerProcess(pid, started, run_id, " ".join(argv)))
    return sorted(found, key=lambda w: w.pid)
