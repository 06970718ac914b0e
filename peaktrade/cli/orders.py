"""``peaktrade orders preview --strategy S | open | cancel-all --yes``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    orders = typer.Typer(help="Orders: validate-only preview, open orders, cancel all.", no_args_is_help=True)
    app.add_typer(orders, name="orders")

    @orders.command("preview")
    def preview(strategy: str = typer.Option(..., "--strategy", help="Strategy name, e.g. ma_crossover."),
                as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """The orders STRATEGY would place now, sent validate-only (checked, never placed)."""
        from peaktrade.cli import _common
        from peaktrade.ops.orders import preview_orders

        result = preview_orders(_common.root(), strategy)
        _common.print_json(result.to_dict()) if as_json else print(result.text())

    @orders.command("open")
    def open_(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """List the open orders on the configured exchange (seed check_open_orders)."""
        from peaktrade.cli import _common
        from peaktrade.ops.orders import open_orders, order_line

        found = open_orders(_common.root())
        if as_json:
            _common.print_json([o.to_dict() for o in found])
            return
        print(f"{len(found)} open order(s)" + (":" if found else ""))
        for o in found:
            print("  " + order_line(o))

    @orders.command("cancel-all")
    def cancel_all_(yes: bool = typer.Option(False, "--yes", help="Confirm: cancel every open order.")) -> None:
        """Cancel every open order (needs --yes; in live also the live gate)."""
        from peaktrade.cli import _common
        from peaktrade.errors import UsageError
        from peaktrade.playbook.adhoc import run_action

        if not yes:
            raise UsageError("cancel-all cancels every open order: confirm with --yes")
        # through the one guarded step executor: kill switch, live gate, journal, operations.log
        report = run_action(_common.root(), "orders.cancel_all", {}, assume_yes=True)
        if report.exit_code:
            from peaktrade.errors import PeakTradeError

            raise PeakTradeError(f"cancel-all {report.outcome}: {report.reason}", exit_code=report.exit_code,
                                 details=[f"journal: {_common.root().rel(report.journal)}"])

    @orders.command("liquidate")
    def liquidate_(symbol: str = typer.Option(None, "--symbol", help="Only this market (default: every position)."),
                   yes: bool = typer.Option(False, "--yes", help="Confirm: close the positions now."),
                   as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Emergency: close the account's positions with reduce-only market orders (allowed while the kill
        switch is engaged; anyone may, seed 11.2). Journaled, and a line in operations.log."""
        from peaktrade.cli import _common
        from peaktrade.errors import PeakTradeError, UsageError
        from peaktrade.playbook.adhoc import run_action

        if not yes:
            raise UsageError("liquidate sends market orders that close every position: confirm with --yes")
        report = run_action(_common.root(), "orders.liquidate", {"symbol": symbol} if symbol else {},
                            assume_yes=True)
        if report.exit_code:
            raise PeakTradeError(f"liquidate {report.outcome}: {report.reason}", exit_code=report.exit_code,
                                 details=[f"journal: {_common.root().rel(report.journal)}"])
