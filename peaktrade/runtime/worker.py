"""The session process started by the orchestrator: ``python -m peaktrade.runtime.worker --run-id ID --root DIR``.

SIGTERM (and SIGINT) only request a stop: the current bar finishes, the log is closed and compacted,
``ended_at`` is written and ``Shutdown complete`` is logged.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    stop = threading.Event()
    # first thing: a SIGTERM that arrives while we start up must already be graceful
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parser = argparse.ArgumentParser(prog="peaktrade.runtime.worker")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--mode")  # informational: visible in `pgrep -af`
    parser.add_argument("--profile")
    args = parser.parse_args(argv)

    from peaktrade.errors import PeakTradeError
    from peaktrade.root import Root
    from peaktrade.runtime.runner import execute_run

    try:
        result = execute_run(Root.resolve(args.root), args.run_id, stop=stop)
    except PeakTradeError as exc:
        print(f"peaktrade worker: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    return 0 if result.status in ("completed", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
