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


class _TolerantStdout:
    """stdout that survives its reader going away (``peaktrade play X | head -3``, a closed ssh pipe).

    The play's record is the journal and the checklist, not the terminal: a closed pipe must not turn
    a step (an action that prints) or the whole play into an internal error. After the first
    BrokenPipeError the output goes to /dev/null and the play ends with its real outcome and exit code.
    """

    def __init__(self, inner) -> None:  # noqa: ANN001
        self._inner = inner

    def _gone(self) -> None:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._inner.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)

    def write(self, text: str) -> int:
        try:
            return self._inner.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except BrokenPipeError:
            self._gone()

    def __getattr__(self, name: str):  # noqa: ANN204 - isatty, fileno, encoding, ...
        return getattr(self._inner, name)


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
        key: str = typer.Option(None, "--key", metavar="PATH", envvar="PEAKTRADE_KEY",
                                help="Your private SSH key: proves who you are when the play binds an "
                                     "approval or acts live (default: ssh-agent)."),
    ) -> None:
        """Run a playbook: every step behind its guards, journaled, with a rendered checklist."""
        from peaktrade.cli import _common
        from peaktrade.playbook.interpreter import PlayRequest, play

        root = _common.root()
        _sigterm_as_interrupt()
        if not isinstance(sys.stdout, _TolerantStdout):
            sys.stdout = _TolerantStdout(sys.stdout)

        def echo(line: str) -> None:
            print(line, flush=True)

        report = play(root, PlayRequest(name=name, params=param, answers=answer, dry_run=dry_run, assume_yes=yes,
                                        resume=resume, operator=operator, key=key, echo=echo))
        print(f"\nplay {report.play_id}: {report.outcome}" + (f" - {report.reason}" if report.reason else ""))
        print(f"journal:   {root.rel(report.journal)}")
        if report.checklist:
            print(f"checklist: {root.rel(report.checklist)}")
        if report.incident:
            print(f"incident:  {root.rel(report.incident)}")
        sys.stdout.flush()
        raise typer.Exit(report.exit_code)
