"""``peaktrade readiness --stage shadow|testnet|live [--json]`` (seed check_live_readiness)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("readiness")
    def readiness(
        stage: str = typer.Option(..., "--stage", help="shadow | testnet | live"),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Check that a session of STAGE may start: prints 'Readiness-Check PASSED' or what to fix."""
        from peaktrade.cli import _common
        from peaktrade.errors import UsageError
        from peaktrade.ops.readiness import STAGES, check_readiness

        if stage not in STAGES:
            raise UsageError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})")
        report = check_readiness(_common.root(), stage)
        if as_json:
            _common.print_json(report.to_dict())
        else:
            print(report.text())
        raise typer.Exit(0 if report.passed else 1)
