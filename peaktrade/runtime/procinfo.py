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


# --- the desk's processes: matched by command-line patterns, scoped to one deployment root ----------

# PeakTrade's session workers and foreground sessions, and the seed's run_* scripts (`pkill -f "python.*run_"`)
DEFAULT_DESK_PATTERNS = (r"peaktrade.*(session|runtime)", r"python.*run_")
_SECRET_FLAG = re.compile(r"^--?[\w-]*(secret|key|token|password|passphrase)[\w-]*$", re.I)


@dataclass(frozen=True)
class MatchedProcess:
    pid: int
    start_time: int | None
    argv: tuple[str, ...]

    @property
    def cmdline(self) -> str:
        """The command line with the values of secret-named flags masked (listings, journals)."""
        out: list[str] = []
        mask_next = False
        for arg in self.argv:
            if mask_next:
                out.append("***REDACTED***")
                mask_next = False
                continue
            flag, eq, _ = arg.partition("=")
            if _SECRET_FLAG.match(flag):
                if eq:
                    arg = f"{flag}=***REDACTED***"
                else:
                    mask_next = True
            out.append(arg)
        return " ".join(out)


def ancestors() -> set[int]:
    """This process and its parents: a play's own command line may contain the pattern."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        fields = _stat_fields(pid)
        if not fields or len(fields) < 2:
            break
        pid = int(fields[1])
    return pids


def _names_root(arg: str, root: str) -> bool:
    at = arg.find(root)
    while at >= 0:
        end = at + len(root)
        if end == len(arg) or arg[end] in "/ \"'":  # /tmp/d must not claim /tmp/d2
            return True
        at = arg.find(root, at + 1)
    return False


def belongs_to(pid: int, argv: list[str] | tuple[str, ...], root: Path) -> bool:
    """Does the process work for this deployment root: its command line names it (the orchestrator
    passes --root) or it runs inside it (the seed's scripts run from the project folder)?"""
    if any(_names_root(arg, str(root)) for arg in argv):
        return True
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(root)
    except OSError:
        return False


def matching_processes(pattern: re.Pattern[str], root: Path | None = None) -> list[MatchedProcess]:
    """Live processes whose command line matches ``pattern``; with ``root``, only that root's.
    This process and its parents are never listed (a play's own command line may match)."""
    skip = ancestors()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        pid = int(entry.name)
        argv = [a for a in _cmdline(pid) if a]
        if not argv or not pattern.search(" ".join(argv)):
            continue
        if root is not None and not belongs_to(pid, argv, root):
            continue
        started = start_time(pid)
        if is_alive(pid, started):  # a zombie has done its work
            found.append(MatchedProcess(pid, started, tuple(argv)))
    return sorted(found, key=lambda p: p.pid)


def desk_pattern(patterns: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for the desk's configured patterns (``re.error`` for a bad one)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
