"""``peaktrade exchange status|credentials|errors|simulate``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Exchange: status, credentials, error table, loopback Kraken simulator.",
                        no_args_is_help=True)
    app.add_typer(group, name="exchange")

    @group.command("status")
    def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Server time, clock skew and latency of the configured exchange."""
        from peaktrade.cli import _common
        from peaktrade.config import load_config
        from peaktrade.exchange.status import exchange_status

        config = load_config(_common.root())
        st = exchange_status(config, mode=config.mode)
        if as_json:
            _common.print_json(st)
        else:
            print(f"{st['exchange']} ({st['mode']}): reachable, latency {st['latency_ms']} ms, "
                  f"clock skew {st['clock_skew_ms']} ms")

    @group.command("credentials")
    def credentials(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Are the API key variables of the current mode set? (variable names only, never values)"""
        from peaktrade.actions.exchange import exchange_credentials
        from peaktrade.actions.registry import ActionContext
        from peaktrade.cli import _common

        result = exchange_credentials(ActionContext(_common.root()), {})
        if as_json:
            _common.print_json({"ok": result.ok, **result.data})
        else:
            print(result.summary + ("\n" + result.output if result.output else ""))
        raise typer.Exit(0 if result.ok else 1)

    @group.command("errors")
    def errors(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """The error taxonomy of runbook 7: severity and what the operator does."""
        from peaktrade.cli import _common
        from peaktrade.exchange.base import taxonomy_table

        table = taxonomy_table()
        if as_json:
            _common.print_json(table)
            return
        for row in table:
            print(f"{row['error']} ({row['severity']}, retry reads: {row['retry_reads']}, halt: {row['halt']})\n"
                  f"  {row['operator_action']}")

    @group.command("simulate")
    def simulate(port: int = typer.Option(8765, "--port", help="TCP port on 127.0.0.1 (0 = any free port)."),
                 seed: int = typer.Option(42, "--seed", help="Seed of the price walk.")) -> None:
        """Run the loopback Kraken REST simulator until Ctrl-C. Credentials: the testnet variables."""
        import os
        import time

        from peaktrade.cli import _common
        from peaktrade.config import load_config
        from peaktrade.errors import UsageError
        from peaktrade.exchange.simulator import KrakenSimulator
        from peaktrade.ops.readiness import credential_names

        names = credential_names(load_config(_common.root()), "testnet")
        values = {role: os.environ.get(name or "") for role, name in names.items()}
        if not all(values.values()):
            raise UsageError(f"set {names['api_key']} and {names['api_secret']} first (the simulator checks "
                             "signatures with them); the secret must be base64, e.g. "
                             f"export {names['api_secret']}=$(openssl rand -base64 32)")
        try:
            sim = KrakenSimulator(values["api_key"], values["api_secret"], seed=seed)  # type: ignore[arg-type]
        except ValueError as exc:
            raise UsageError(f"{names['api_secret']} is not valid base64: {exc}") from None
        url = sim.start(port)
        print(f"Kraken simulator listening on {url} (set [exchange] base_url = \"{url}\", sandbox = true)",
              flush=True)
        try:
            while True:
                time.sleep(3600)
        finally:
            sim.stop()
