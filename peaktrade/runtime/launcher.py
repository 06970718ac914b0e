"""How a run's process is started, signalled and watched.

``Launcher`` is the interface (a systemd or Kubernetes backend would implement the same five
methods); ``LocalProcessLauncher`` starts ``python -m peaktrade.runtime.worker --run-id <id> …`` as a
detached process in its own session, so it outlives the CLI and ``pgrep -af <run_id>`` finds it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from peaktrade.runtime import procinfo


@dataclass(frozen=True)
class ProcessHandle:
    pid: int
    start_time: int | None  # guards against pid reuse


class Launcher(Protocol):
    def launch(self, run_id: str, worker_args: list[str], *, cwd: Path, output: Path) -> ProcessHandle: ...

    def is_alive(self, handle: ProcessHandle) -> bool: ...

    def terminate(self, handle: ProcessHandle) -> bool:
        """Ask the run to stop (SIGTERM); False if it is not running."""
        ...

    def kill(self, handle: ProcessHandle) -> bool: ...

    def find_workers(self, root: Path) -> list[tuple[str, ProcessHandle]]:
        """(run id, process) of every live worker of deployment ``root``, found without the registry
        (the emergency force-kill's fallback and sweep)."""
        ...


class LocalProcessLauncher:
    def __init__(self, python: str | None = None):
        self.python = python or sys.executable

    def argv(self, worker_args: list[str]) -> list[str]:
        return [self.python, "-m", "peaktrade.runtime.worker", *worker_args]

    def launch(self, run_id: str, worker_args: list[str], *, cwd: Path, output: Path) -> ProcessHandle:
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(os.devnull, "rb") as stdin, open(output, "ab") as out:
            proc = subprocess.Popen(
                self.argv(worker_args), cwd=cwd, stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        return ProcessHandle(proc.pid, procinfo.start_time(proc.pid))

    def is_alive(self, handle: ProcessHandle) -> bool:
        procinfo.reap(handle.pid)  # when the CLI runs in-process (tests), the worker is our child
        return procinfo.is_alive(handle.pid, handle.start_time)

    def _signal(self, handle: ProcessHandle, sig: int) -> bool:
        if not self.is_alive(handle):
            return False
        try:
            os.kill(handle.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def terminate(self, handle: ProcessHandle) -> bool:
        return self._signal(handle, signal.SIGTERM)

    def kill(self, handle: ProcessHandle) -> bool:
        return self._signal(handle, signal.SIGKILL)

    def find_workers(self, root: Path) -> list[tuple[str, ProcessHandle]]:
        from peaktrade.runtime.runlog import RUN_ID_RE

        return [(w.run_id, ProcessHandle(w.pid, w.start_time)) for w in procinfo.find_workers(root, RUN_ID_RE)]
