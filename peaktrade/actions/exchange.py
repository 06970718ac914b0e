"""Exchange actions: readiness, smoke test, exchange status and credentials, orders."""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action

_STAGE = {"type": "object", "additionalProperties": False, "required": ["stage"],
          "properties": {"stage": {"enum": ["shadow", "testnet", "live"]}}}
_NONE: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
_MODE = {"type": "object", "additionalProperties": False,
         "properties": {"mode": {"enum": ["paper", "testnet", "live"],
                                 "description": "default: environment.mode of the config"}}}


def _exchange_failure(exc: Exception) -> ActionResult:
    """An expected failure becomes a result (the taxonomy with its operator action); a bug is re-raised."""
    from peaktrade.errors import BlockedError, PeakTradeError
    from peaktrade.exchange.base import ExchangeError

    if isinstance(exc, ExchangeError):
        return ActionResult(False, exc.log_line(), output=exc.operator_action,
                            data={"error_type": exc.error_type, "severity": exc.severity, "halt": exc.halt})
    if isinstance(exc, PeakTradeError):
        return ActionResult(False, exc.message, output="\n".join(exc.details), blocked=isinstance(exc, BlockedError))
    raise exc


@action("readiness.check", schema=_STAGE, effect="read",
        description="Readiness check for a stage (config, mode, risk limits, exchange, credentials, "
                    "connectivity, kill switch, disk)")
def readiness_check(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.ops.readiness import check_readiness

    report = check_readiness(ctx.root, args["stage"], clock=ctx.clock)
    summary = ("Readiness-Check PASSED" if report.passed else
               f"Readiness-Check FAILED: {', '.join(c.name for c in report.failed)}")
    return ActionResult(report.passed, summary, output=report.text(), data=report.to_dict())


@action("smoke.run", schema=_NONE, effect="act",
        description="Order lifecycle smoke test against the configured non-live exchange (places and "
                    "cancels test orders there)",
        describe=lambda args: "place and cancel test orders on the configured non-live exchange "
                              "(smoke test: market fill, limit open -> cancel, validate-only preview)")
def smoke_run(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.errors import BlockedError
    from peaktrade.ops.smoke import run_smoke

    try:
        report = run_smoke(ctx.root, clock=ctx.clock)
    except BlockedError as exc:
        return ActionResult(False, exc.message, blocked=True)
    except Exception as exc:  # noqa: BLE001 - only the taxonomy is turned into a result, the rest re-raised
        return _exchange_failure(exc)
    failed = [s.name for s in report.steps if not s.ok]
    summary = "Smoke-Test PASSED" if report.passed else f"Smoke-Test FAILED: {', '.join(failed)}"
    return ActionResult(report.passed, summary, output=report.text(), data=report.to_dict())


@action("exchange.status", schema=_MODE, effect="read",
        description="Exchange server time, clock skew and latency")
def exchange_status_action(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.config import load_config
    from peaktrade.exchange.status import exchange_status

    config = load_config(ctx.root)
    try:
        status = exchange_status(config, mode=args.get("mode") or config.mode, clock=ctx.clock)
    except Exception as exc:  # noqa: BLE001
        return _exchange_failure(exc)
    return ActionResult(True, f"{status['exchange']} reachable: latency {status['latency_ms']} ms, "
                              f"clock skew {status['clock_skew_ms']} ms", data=status)


@action("exchange.credentials", schema=_MODE, effect="read",
        description="Are the API key variables set? (names only, never values)")
def exchange_credentials(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    import os

    from peaktrade.config import load_config
    from peaktrade.ops.readiness import credential_names

    config = load_config(ctx.root)
    mode = args.get("mode") or config.mode
    if config.exchange_type == "dummy":
        return ActionResult(True, "dummy exchange: no credentials needed", data={"mode": mode, "variables": {}})
    names = credential_names(config, "live" if mode == "live" else "testnet")
    present = {name: bool(os.environ.get(name)) for name in names.values() if name}
    unnamed = [role for role, name in names.items() if not name]
    lines = [f"{name}: {'set' if ok else 'MISSING'}" for name, ok in present.items()]
    lines += [f"{role}: no variable name configured for {mode}" for role in unnamed]
    ok = all(present.values()) and not unnamed
    missing = [n for n, v in present.items() if not v] + unnamed
    summary = f"credentials for {mode} present" if ok else f"credentials missing: {', '.join(missing)}"
    return ActionResult(ok, summary, output="\n".join(lines), data={"mode": mode, "variables": present})


@action("orders.preview", effect="read",
        schema={"type": "object", "additionalProperties": False, "required": ["strategy"],
                "properties": {"strategy": {"type": "string", "minLength": 1}}},
        description="Validate-only orders the strategy would place now (checked by the exchange, never placed)")
def orders_preview(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.ops.orders import preview_orders

    try:
        preview = preview_orders(ctx.root, args["strategy"], clock=ctx.clock, approvals=ctx.approvals)
    except Exception as exc:  # noqa: BLE001
        return _exchange_failure(exc)
    n = len(preview.orders)
    summary = (f"{n} order(s) validated for {preview.strategy} on {preview.symbol}, none placed" if n
               else f"{preview.strategy} on {preview.symbol}: no order now (holds its position)")
    return ActionResult(True, summary, output=preview.text(), data=preview.to_dict())


@action("orders.open", schema=_NONE, effect="read",
        description="Open orders on the configured exchange; ok only when none are open")
def orders_open(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.ops.orders import open_orders, order_line

    try:
        found = open_orders(ctx.root, clock=ctx.clock)
    except Exception as exc:  # noqa: BLE001
        return _exchange_failure(exc)
    data = {"open_orders": [o.to_dict() for o in found], "count": len(found)}
    if not found:
        return ActionResult(True, "no open orders", data=data)
    return ActionResult(False, f"{len(found)} open order(s)", output="\n".join(order_line(o) for o in found),
                        data=data)


@action("orders.cancel_all", schema=_MODE, effect="act", live_sensitive=True,
        description="Cancel every open order (in live only through the live gate)",
        describe=lambda args: "cancel every open order on the configured exchange")
def orders_cancel_all(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.errors import BlockedError
    from peaktrade.ops.orders import cancel_all

    try:
        count = cancel_all(ctx.root, approvals=ctx.approvals, clock=ctx.clock)
    except BlockedError as exc:
        return ActionResult(False, exc.message, output="\n".join(exc.details), blocked=True)
    except Exception as exc:  # noqa: BLE001
        return _exchange_failure(exc)
    return ActionResult(True, f"cancelled {count} open order(s)", data={"cancelled": count})


_LIQUIDATE = {"type": "object", "additionalProperties": False,
              "properties": {"symbol": {"type": "string", "pattern": "^[A-Z0-9]+/[A-Z0-9]+$",
                                        "description": "only this market (default: every open position)"}}}


@action("orders.liquidate", schema=_LIQUIDATE, effect="act", risk_reducing=True, idempotent=True,
        description="Emergency liquidation: close the account's positions with reduce-only market orders "
                    "through the order gateway (allowed while the kill switch is engaged; seed 11.2: anyone)",
        describe=lambda args: f"close {'the ' + args['symbol'] if args.get('symbol') else 'every'} open position "
                              "with reduce-only market orders")
def orders_liquidate(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.ops.orders import liquidate

    try:
        result = liquidate(ctx.root, symbol=args.get("symbol"), clock=ctx.clock,
                           origin=f"{ctx.play_id or 'adhoc'}:{ctx.step_id or 'liquidate'}")
    except Exception as exc:  # noqa: BLE001
        return _exchange_failure(exc)
    closed = sum(1 for _, _, o in result.outcomes if o.status == "filled")
    summary = (f"{closed} of {len(result.outcomes)} position(s) closed on the {result.account} account"
               if result.outcomes else f"no open position on the {result.account} account")
    return ActionResult(result.ok, summary, output=result.text(), data=result.to_dict())
