"""A stand-in session for the desk-wide stop test: records itself running, ends ``stopped`` on SIGTERM.

Invoked by the agent's launcher as ``<python> -m peaktrade.runtime.worker --run-id ID --root DIR ...``
through a wrapper script, so it sees the same arguments as the real worker."""

from __future__ import annotations

import os
import signal
import sys
import threading

if __name__ == "__main__":
    args = sys.argv[1:]
    run_id, root = args[args.index("--run-id") + 1], args[args.index("--root") + 1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    from peaktrade.clock import SYSTEM_CLOCK, utc_iso
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    store = open_desk(Root.resolve(root))
    store.update_run(run_id, only_if=("starting",), status="running", pid=os.getpid(),
                     started_at=utc_iso(SYSTEM_CLOCK.now()))
    stop.wait(300)
    store.update_run(run_id, only_if=("running", "stopping"), status="stopped", ended_at=utc_iso(SYSTEM_CLOCK.now()),
                     status_note="stopped by SIGTERM")
