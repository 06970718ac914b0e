"""Runbook 3, step 7: the first small live order — only through the live gate and the live risk limits."""

from __future__ import annotations

import secrets
from typing import Any


def go_live(ctx, args: dict[str, Any]):
    from peaktrade.actions.registry import ActionResult
    from peaktrade.config import load_config
    from peaktrade.errors import BlockedError
    from peaktrade.policy.gate import require_live
    from peaktrade.policy.killswitch import KillSwitch
    from peaktrade.policy.limits import load_risk_limits
    from peaktrade.policy.risk import OrderIntent, RiskEngine, format_blocked
    from peaktrade.policy.whatif import current_state

    try:  # the interpreter gates live-sensitive actions too; this action never relies on that alone
        require_live(ctx.root, approvals=ctx.approvals, what="orders.go_live", clock=ctx.clock)
    except BlockedError as exc:
        return ActionResult(False, exc.message, blocked=True, data={"missing": exc.details})
    try:
        from peaktrade.exchange.factory import make_exchange
    except ImportError:
        return ActionResult(False, "the exchange adapter is not installed: no live order can be sent")
    config = load_config(ctx.root)
    exchange = make_exchange(config, mode="live", clock=ctx.clock)
    symbol, side, qty, price = args["symbol"], args["side"], float(args["quantity"]), args.get("price")
    limits = load_risk_limits(ctx.root, "live")
    state = current_state(ctx.root, limits, float(config.get("session.starting_cash", 0.0) or 0.0), ctx.clock)
    state.portfolio.marks[symbol] = float(exchange.fetch_ticker(symbol).get("last"))
    decision = RiskEngine(limits).check(OrderIntent(symbol, side, qty, price), state.portfolio,
                                        day_start_equity=state.day_start_equity, equity=state.equity,
                                        kill_switch_state=KillSwitch(ctx.root, ctx.clock).status().state)
    if not decision.allowed:
        return ActionResult(False, format_blocked(decision), blocked=True, data=decision.to_dict())
    client_id = f"pt-golive-{secrets.token_hex(6)}"
    order = exchange.create_order(symbol, side, "limit" if price else "market", qty, price, client_order_id=client_id)
    if not getattr(order, "id", None):
        return ActionResult(False, f"the exchange returned no order id for {client_id}: check open orders")
    return ActionResult(True, f"first live order sent: {side} {qty} {symbol} (order {order.id}, {order.status})",
                        data={"order_id": order.id, "client_order_id": client_id, "status": order.status})
