"""``peaktrade play NAME``: run a playbook (see docs/operator-guide-play.md)."""

from __future__ import annotations

import signal
import sys

import typer


def _sigterm_as_interrupt() -> None:
    # SIGTERM ends a play like Ctrl-C: journaled, checklist rendered, exit 130
    def handler(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use)
        pass


def register(app: typer.Typer) -> None:
    @app.command("play")
    def play_cmd(
        name: str = typer.Argument(..., help="Playbook name (playbooks/NAME.yaml)."),
        param: list[str] = typer.Option([], "-p", "--param", metavar="K=V", help="A playbook param (repeatable)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Run read steps; only describe act steps."),
        yes: bool = typer.Option(False, "--yes", "-y",
                                 help="Answer confirmations and tick manual steps (never approvals)."),
        resume: str = typer.Option(None, "--resume", metavar="PLAY_ID",
                                   help="Continue a play at its first unfinished step."),
        operator: str = typer.Option(None, "--operator", metavar="NAME",
                                     help="Who runs it (default $PEAKTRADE_OPERATOR, else the OS user)."),
        answer: list[str] = typer.Option([], "--answer", metavar="STEP=OPTION",
                                         help="Answer a decide step (repeatable)."),
    ) -> None:
        """Run a playbook: every step behind its guards, journaled, with a rendered checklist."""
        from peaktrade.cli import _common
        from peaktrade.playbook.interpreter import PlayRequest, play

        root = _common.root()
        _sigterm_as_interrupt()

        def echo(line: str) -> None:
            print(line, flush=True)

        report = play(root, PlayRequest(name=name, params=param, answers=answer, dry_run=dry_run, assume_yes=yes,
                                        resume=resume, operator=operator, echo=echo))
        print(f"\nplay {report.play_id}: {report.outcome}" + (f" - {report.reason}" if report.reason else ""))
        print(f"journal:   {root.rel(report.journal)}")
        if report.checklist:
            print(f"checklist: {root.rel(report.checklist)}")
        if report.incident:
            print(f"incident:  {root.rel(report.incident)}")
        sys.stdout.flush()
        raise typer.Exit(report.exit_code)
