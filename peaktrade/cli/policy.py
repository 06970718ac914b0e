"""`peaktrade policy diff --base REF`: which policy fields were tightened, loosened or changed."""

from __future__ import annotations

import typer

policy_app = typer.Typer(help="Policy review: compare policies/ with a git ref.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@policy_app.command("diff")
def diff(base: str = typer.Option(..., "--base", help="Git ref to compare with, e.g. origin/main."),
         fmt: str = typer.Option("text", "--format", help="text|json|markdown (markdown: for a PR comment)."),
         fail_on_loosen: bool = typer.Option(False, "--fail-on-loosen",
                                             help="Exit 1 when any field was loosened.")) -> None:
    """Classify every changed policy field; list the approvals the decision matrix requires."""
    import json

    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.policy.diffreport import policy_diff, render_markdown, render_text

    if fmt not in ("text", "json", "markdown"):
        raise UsageError(f"--format {fmt!r}: text, json or markdown")
    report = policy_diff(_common.root(), base)
    if fmt == "json":
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(render_markdown(report) if fmt == "markdown" else render_text(report))
    if fail_on_loosen and report.loosened:
        raise typer.Exit(1)
