"""``peaktrade desk migrate|status`` (DESIGN 11): the desk state's backend, schema, agents and heartbeats."""

from __future__ import annotations

import typer

desk_app = typer.Typer(help="The desk state: schema migrations, backend, agents and their heartbeats.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(desk_app, name="desk")


@desk_app.command("migrate")
def migrate(recreate: bool = typer.Option(False, "--recreate", help="Start a new, empty desk state with the kill "
                                          "switch engaged (after the old one was lost)."),
            yes: bool = typer.Option(False, "--yes", help="PostgreSQL --recreate: confirm dropping the shared state."),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Apply the desk state's schema migrations (PostgreSQL: under an advisory lock, once for all hosts)."""
    import getpass

    from peaktrade.cli import _common
    from peaktrade.clock import SYSTEM_CLOCK, utc_iso
    from peaktrade.desk import backend, open_desk
    from peaktrade.errors import UsageError

    root = _common.root()
    url = backend.cluster_url(root)
    by = getpass.getuser()
    if url is None:
        from peaktrade.desk.migrate import recreate as recreate_sqlite

        store = recreate_sqlite(root, by=by) if recreate else open_desk(root)
        result = {"backend": "sqlite", "schema_version": store.schema_version(), "recreated": recreate}
    else:
        if recreate and not yes:
            raise UsageError("desk migrate --recreate on PostgreSQL drops the shared desk state of every host; "
                             "add --yes to confirm")
        store = backend.open_postgres(root, url)
        before, after = store.migrate(recreate=recreate, by=by, at=utc_iso(SYSTEM_CLOCK.now()))  # type: ignore[attr-defined]
        result = {"backend": "postgresql", "url": store.shown, "schema_version": after, "before": before,  # type: ignore[attr-defined]
                  "recreated": recreate}
    if as_json:
        _common.print_json(result)
        return
    where = result.get("url", "var/desk.sqlite")
    if recreate:
        print(f"✅ Desk state recreated ({where}), schema version {result['schema_version']}; the kill switch is "
              "engaged: release it with an approval when the desk is checked")
    elif result.get("before") == result["schema_version"]:
        print(f"✅ Desk state ({where}) is at schema version {result['schema_version']}: nothing to do")
    else:
        print(f"✅ Desk state ({where}) migrated to schema version {result['schema_version']}")


@desk_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Backend, schema version, kill switch, agents and their heartbeats (exit 1 when the store is unusable)."""
    from peaktrade.cli import _common
    from peaktrade.desk import backend, open_desk
    from peaktrade.desk.killswitch import read_kill_switch

    root = _common.root()
    store = open_desk(root)
    info = {"backend": store.backend, "url": getattr(store, "shown", "var/desk.sqlite"),
            "schema_version": store.schema_version(), "host_id": backend.host_id(root),
            "kill_switch": read_kill_switch(root).word,
            "agents": [a.__dict__ for a in store.list_agents()],
            "queued_runs": sum(1 for r in store.list_runs(active_only=True) if r.status == "starting" and not r.pid)}
    if as_json:
        _common.print_json(info)
        return
    print(f"Backend: {info['backend']} ({info['url']})\nSchema version: {info['schema_version']}\n"
          f"This host: {info['host_id']}\nKill switch: {info['kill_switch']}")
    if not info["agents"]:
        print("Agents: none" + (" (an embedded desk is one host)" if store.backend == "sqlite" else ""))
        return
    print(f"{'Agent (host)':<20}{'Status':<9}{'PID':<9}{'Heartbeat':<28}{'Age':<8}Note")
    for a in store.list_agents():
        age = f"{a.age_s:.1f}s" if a.age_s is not None else "-"
        print(f"{a.host_id:<20}{a.status:<9}{a.pid or '-'!s:<9}{a.heartbeat_at or '-':<28}{age:<8}{a.note or ''}")
