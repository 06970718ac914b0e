"""``peaktrade smoke [--json]`` (seed smoke_test_testnet_stack)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("smoke")
    def smoke(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Order lifecycle against the configured non-live exchange; prints 'Smoke-Test PASSED'."""
        from peaktrade.cli import _common
        from peaktrade.ops.smoke import run_smoke

        report = run_smoke(_common.root())
        if as_json:
            _common.print_json(report.to_dict())
        else:
            print(report.text())
        raise typer.Exit(0 if report.passed else 1)
