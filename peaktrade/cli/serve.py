"""`peaktrade serve`: the dashboard (DESIGN 12). The only command that imports ``peaktrade.web``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless --allow-remote)."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="TCP port (0: any free port)."),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="Allow a non-loopback address; requires $PEAKTRADE_WEB_TOKEN."),
    allowed_host: list[str] = typer.Option([], "--allowed-host", metavar="NAME",
                                           help="A Host header to accept besides the loopback names (the name "
                                                "a reverse proxy forwards); repeatable."),
) -> None:
    """Serve the dashboard: runs, charts, alerts, plays, approvals, /metrics. Read-only but two writes."""
    import os

    from peaktrade.cli import _common
    from peaktrade.errors import UsageError

    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise UsageError("the dashboard needs the web extra: pip install 'peaktrade[web]'") from None
    from peaktrade.web.app import create_app
    from peaktrade.web.security import MIN_TOKEN_LENGTH, TOKEN_ENV, Security, is_loopback

    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host):
        if not allow_remote:
            raise UsageError(f"--host {host} is not a loopback address: add --allow-remote (and set ${TOKEN_ENV})")
        if token is None:
            raise UsageError(f"--allow-remote needs a token: set ${TOKEN_ENV} (at least {MIN_TOKEN_LENGTH} "
                             "characters); every request must carry it")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"${TOKEN_ENV} is too short: at least {MIN_TOKEN_LENGTH} characters")
    root = _common.root()
    security = Security(token=token, allowed_hosts=tuple(h.strip().lower() for h in allowed_host if h.strip()))
    app = create_app(root, security)
    shown = f"[{host}]" if ":" in host else host
    print(f"PeakTrade dashboard of {root.path} on http://{shown}:{port}/ "
          f"({'token required' if token else 'loopback, no token'}); Ctrl-C stops it", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
