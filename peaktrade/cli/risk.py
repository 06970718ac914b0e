"""`peaktrade risk show|check`: the effective limits of a stage, and what-if pre-trade decisions."""

from __future__ import annotations

import typer

risk_app = typer.Typer(help="Risk limits and what-if pre-trade checks (policies/risk-limits.yaml).",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app, name="risk")


def _stage(root, stage: str | None) -> str:
    from peaktrade.errors import UsageError
    from peaktrade.policy.stages import STAGES, current_stage

    if stage is None:
        return current_stage(root)
    if stage not in STAGES:
        raise UsageError(f"--stage {stage!r}: one of {', '.join(STAGES)}")
    return stage


@risk_app.command("show")
def show(stage: str = typer.Option(None, "--stage", help="shadow|testnet|live (default: the current stage)"),
         as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show the effective limits of a stage, the limits not set, and contradictions between limits."""
    from peaktrade.cli import _common
    from peaktrade.policy.limits import consistency_warnings, load_risk_limits, render_limits

    root = _common.root()
    limits = load_risk_limits(root, _stage(root, stage))
    warnings = consistency_warnings(limits)
    if as_json:
        _common.print_json({"stage": limits.stage, "base_currency": limits.base_currency,
                            "daily_reset": f"{limits.daily_reset_time} {limits.daily_reset_timezone}",
                            "warning_threshold_factor": limits.warning_threshold_factor,
                            "limits": limits.enforced(), "not_set": limits.not_set(), "warnings": warnings})
        return
    print(render_limits(limits, warnings))


@risk_app.command("check")
def check(symbol: str = typer.Option(..., "--symbol", help="e.g. BTC/EUR"),
          side: str = typer.Option(..., "--side", help="buy|sell"),
          quantity: float = typer.Option(..., "--quantity", help="Order quantity in the base asset."),
          price: float = typer.Option(None, "--price", help="Limit price; default: the exchange's last price."),
          stage: str = typer.Option(None, "--stage", help="shadow|testnet|live (default: the current stage)"),
          as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """What-if: would this order pass the pre-trade risk check now? Exit 0 allowed, 3 blocked."""
    from peaktrade.cli import _common
    from peaktrade.config import load_config
    from peaktrade.errors import UsageError
    from peaktrade.gateway import DecideOnly, OrderRequest, open_gateway
    from peaktrade.policy.killswitch import read_kill_switch
    from peaktrade.policy.limits import load_risk_limits
    from peaktrade.policy.risk import format_blocked

    if side not in ("buy", "sell"):
        raise UsageError(f"--side {side!r}: buy or sell")
    root = _common.root()
    the_stage = _stage(root, stage)
    limits = load_risk_limits(root, the_stage)
    config = load_config(root)
    mark = price if price is not None else _ticker_price(config, symbol)
    # the desk ledger of the stage's account, never another account's runs; nothing is reserved or sent
    gateway = open_gateway(root, config, the_stage, venue=DecideOnly(), limits=limits)
    decision, _ = gateway.decide(OrderRequest(symbol, side, quantity, mark, "risk-check", "what-if", price=price))
    ledger = gateway.ledger()
    state_source = (f"desk ledger of the {gateway.account} account: cash {ledger.cash:,.2f}, "
                    f"{sum(1 for p in ledger.positions.values() if p.quantity)} position(s)")
    ks = read_kill_switch(root).word
    if as_json:
        _common.print_json({"stage": limits.stage, "order": {"symbol": symbol, "side": side, "quantity": quantity,
                                                             "price": price, "mark": mark},
                            "portfolio_source": state_source, "kill_switch": ks, **decision.to_dict()})
    else:
        print(f"Stage {limits.stage}; portfolio: {state_source}; kill switch {ks}; state {decision.state}")
        for c in decision.checks:
            fmt = "{:,.0f}" if c.name == "max_open_positions" else "{:,.2f}"
            limit = "not set" if c.limit is None else fmt.format(c.limit)
            value = "-" if c.value != c.value else fmt.format(c.value)
            print(f"  {c.name:<22} {value:>14} / {limit:<14} {c.level.upper()}{' (blocks)' if c.blocking else ''}")
        print("ALLOWED" if decision.allowed else format_blocked(decision))
    if not decision.allowed:
        raise typer.Exit(3)


def _ticker_price(config, symbol: str) -> float:
    from peaktrade.errors import UsageError

    try:
        from peaktrade.exchange.factory import make_exchange

        last = make_exchange(config, mode=config.mode).fetch_ticker(symbol).get("last")
        return float(last)
    except Exception as exc:  # noqa: BLE001 - any failure to price the order means: ask for --price
        raise UsageError(f"no mark price for {symbol} from the exchange ({getattr(exc, 'message', exc)}): "
                         "pass --price") from None
