"""``peaktrade incident new|list|show|resolve``: incident reports (reports/incidents/) and their lifecycle."""

from __future__ import annotations

import typer

incident_app = typer.Typer(help="Incident reports (reports/incidents/).", no_args_is_help=True)


@incident_app.command("new")
def new_cmd(
    runbook: str = typer.Option(..., "--runbook", metavar="NAME", help="The runbook / playbook concerned."),
    severity: str = typer.Option(..., "--severity", metavar="low|medium|high"),
    run_id: str = typer.Option(None, "--run-id", metavar="ID", help="The affected run."),
    operator: str = typer.Option(None, "--operator", metavar="NAME"),
) -> None:
    """Render a new, open incident report and print its path."""
    import re
    import secrets

    from peaktrade.cli import _common
    from peaktrade.clock import SYSTEM_CLOCK
    from peaktrade.errors import UsageError
    from peaktrade.oplog import append_operation
    from peaktrade.playbook.interpreter import resolve_operator
    from peaktrade.playbook.model import load_playbook, playbook_names
    from peaktrade.playbook.render import render_new_incident

    if severity not in ("low", "medium", "high"):
        raise UsageError(f"--severity {severity!r}: must be low, medium or high")
    if not re.fullmatch(r"[a-z][a-z0-9-]*", runbook):
        raise UsageError(f"--runbook {runbook!r}: expected a playbook name like incident-data-gap")
    if run_id is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id):
        raise UsageError(f"--run-id {run_id!r}: not a run id")
    root = _common.root()
    title = runbook
    names = playbook_names(root)
    if runbook not in names:
        raise UsageError(f"--runbook {runbook!r}: no such playbook in {root.rel(root.playbooks_dir)}/",
                         details=[f"available: {', '.join(names) or '(none)'}"])
    try:
        title = load_playbook(root, runbook).title
    except UsageError:
        pass  # an invalid playbook still gets its incident report, titled by name
    now = SYSTEM_CLOCK.now()
    incident_id = f"{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    path = render_new_incident(root, runbook=runbook, severity=severity, run_id=run_id,
                               title=f"{title}" + (f" (run {run_id})" if run_id else ""),
                               date=now.strftime("%Y-%m-%d"), incident_id=incident_id)
    append_operation(root, operator=resolve_operator(operator), what=f"incident new {runbook}",
                     outcome="opened", reason=f"severity {severity}" + (f", run {run_id}" if run_id else ""))
    print(root.rel(path))


@incident_app.command("list")
def list_cmd(open_only: bool = typer.Option(False, "--open", help="Only open incidents."),
             as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Incident reports, newest first: id, date, severity, status, runbook, title."""
    from peaktrade.cli import _common
    from peaktrade.playbook.incidents import list_incidents

    rows = list_incidents(_common.root(), open_only=open_only)
    if as_json:
        _common.print_json([r.to_dict() for r in rows])
        return
    if not rows:
        print("no open incidents" if open_only else "no incidents")
        return
    width = max(len(r.id) for r in rows)
    print(f"{'ID':<{width}}  {'DATE':<10}  {'SEVERITY':<8}  {'STATUS':<8}  {'RUNBOOK':<26}  TITLE")
    for r in rows:
        print(f"{r.id:<{width}}  {r.date:<10}  {r.severity:<8}  {r.status:<8}  {r.runbook:<26}  {r.title}")


@incident_app.command("show")
def show_cmd(incident_id: str = typer.Argument(..., metavar="ID", help="Incident id (or a unique prefix)."),
             as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Print one incident report."""
    from peaktrade.cli import _common
    from peaktrade.playbook.incidents import find_incident

    root = _common.root()
    inc = find_incident(root, incident_id)
    text = (root.path / inc.path).read_text(encoding="utf-8")
    if as_json:
        _common.print_json({**inc.to_dict(), "text": text})
        return
    print(text.rstrip("\n"))


@incident_app.command("resolve")
def resolve_cmd(incident_id: str = typer.Argument(..., metavar="ID", help="Incident id (or a unique prefix)."),
                note: str = typer.Option(..., "--note", help="What was done to resolve it."),
                operator: str = typer.Option(None, "--operator", metavar="NAME")) -> None:
    """Mark an incident resolved: its Status becomes resolved, the note goes under Resolution."""
    from peaktrade.cli import _common
    from peaktrade.clock import SYSTEM_CLOCK, utc_iso
    from peaktrade.errors import UsageError
    from peaktrade.oplog import append_operation
    from peaktrade.playbook.incidents import find_incident, resolve_incident
    from peaktrade.playbook.interpreter import resolve_operator

    root = _common.root()
    inc = find_incident(root, incident_id)
    if inc.status != "open":
        raise UsageError(f"incident {inc.id} is {inc.status}, not open: nothing to resolve")
    if not note.strip():
        raise UsageError("--note: say what was done to resolve it")
    who = resolve_operator(operator)
    resolve_incident(root, inc, note=note, operator=who, when=utc_iso(SYSTEM_CLOCK.now()))
    append_operation(root, operator=who, what=f"incident resolve {inc.id}", outcome="resolved", reason=note)
    print(f"resolved: {inc.path}")


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
