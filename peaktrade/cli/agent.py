"""``peaktrade agent --host-id H`` (DESIGN 11): the one agent of a host of a desk on several hosts."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("agent")(agent)


def agent(host_id: str = typer.Option(None, "--host-id", help="This host's id (default: $PEAKTRADE_HOST_ID, "
                                      "[desk_state] host_id, else the host name)."),
          heartbeat: float = typer.Option(None, "--heartbeat", help="Seconds between heartbeats (default: "
                                          "[desk_state] heartbeat_seconds, else 2)."),
          lost_after: float = typer.Option(None, "--lost-after", help="Seconds of silence after which another "
                                           "host's agent is lost (default: [desk_state] lost_after_seconds, else 15)."),
          python: str = typer.Option(None, "--python", help="Interpreter that runs the sessions (default: this one)."),
          ) -> None:
    """Claim runs pinned to this host or unpinned, launch and stop them, heartbeat (until SIGTERM/Ctrl-C).

    One agent per host (a second one for the same host is refused). Runs of a host whose heartbeat
    expires become lost and raise run_crashed; they are never restarted by any agent."""
    import signal
    import sys
    import threading

    from peaktrade.cli import _common
    from peaktrade.cluster.agent import Agent
    from peaktrade.desk import backend
    from peaktrade.errors import UsageError
    from peaktrade.runtime.launcher import LocalProcessLauncher

    root = _common.root()
    conf = backend.desk_state_config(root)
    host = (host_id or backend.host_id(root)).strip()
    if not host:
        raise UsageError("--host-id must not be empty")
    hb = heartbeat or float(conf.get("heartbeat_seconds", 2.0))
    lost = lost_after or float(conf.get("lost_after_seconds", 15.0))
    if hb <= 0 or lost <= hb:
        raise UsageError(f"--lost-after ({lost:g} s) must be longer than --heartbeat ({hb:g} s)")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def log(line: str) -> None:
        from peaktrade.clock import SYSTEM_CLOCK, utc_iso
        from peaktrade.redact import redact_text

        print(f"{utc_iso(SYSTEM_CLOCK.now())} {redact_text(line)}", flush=True)

    Agent(root, host, launcher=LocalProcessLauncher(python), heartbeat_s=hb, lost_after_s=lost, log=log).run(stop)
    sys.stdout.flush()
