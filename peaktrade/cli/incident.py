"""``peaktrade incident new``: a fresh incident report from the incident template."""

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


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
