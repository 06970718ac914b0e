"""The session's risk gate keeps one portfolio per symbol and updates it in place: its decisions are
exactly those of the engine on a fresh one-symbol portfolio per check (what the gate used to build)."""

from __future__ import annotations

import logging
import math
import random
from datetime import UTC, datetime

from peaktrade.clock import FakeClock
from peaktrade.policy.risk import OrderIntent, Portfolio
from peaktrade.runtime.riskgate import RiskGate


def _fresh(gate: RiskGate, symbol, side, quantity, price, position, cash, equity):
    d = gate._engine.check(OrderIntent(symbol, side, quantity, price),
                           Portfolio(positions={symbol: position}, marks={symbol: price}, cash=cash),
                           day_start_equity=gate._daily.day_start_equity, equity=equity)
    return d.allowed, [str(r) for r in d.reasons], str(d.state)


def _steps(rng: random.Random):
    """Bars of a session: the price walks, the position changes on some bars, odd inputs now and then."""
    price, position = 60_000.0, 0.0
    for _ in range(3000):
        price *= math.exp(rng.gauss(0, 0.01))
        if rng.random() < 0.3:  # a fill moved the position (sometimes to zero, sometimes short)
            position = rng.choice([0.0, rng.uniform(-0.2, 0.2), position + rng.uniform(-0.02, 0.02)])
        quantity = rng.choice([rng.uniform(0.0001, 0.03), abs(position) or 0.01])
        mark = price
        r = rng.random()
        if r < 0.01:
            mark = rng.choice([math.nan, 0.0, -1.0, math.inf])
        elif r < 0.02:
            quantity = rng.choice([math.nan, 0.0, -0.5])
        equity = 10_000.0 + rng.uniform(-700.0, 300.0)  # sometimes beyond the daily loss limit
        yield rng.choice(["buy", "sell"]), quantity, mark, position, 10_000.0 - position * price, equity


def test_kept_portfolio_decides_exactly_as_a_fresh_one_per_check(root):
    clock = FakeClock(datetime(2025, 12, 7, 12, tzinfo=UTC))
    gate = RiskGate(root, "testnet", clock=clock, log=logging.getLogger("test.riskgate"))
    gate.observe(10_000.0)
    outcomes = set()
    for side, quantity, mark, position, cash, equity in _steps(random.Random(20251207)):
        got = gate.check(symbol="BTC/EUR", side=side, quantity=quantity, price=mark, position=position, cash=cash,
                         equity=equity)
        want = _fresh(gate, "BTC/EUR", side, quantity, mark, position, cash, equity)
        assert (got.allowed, got.reasons, got.state) == want, (side, quantity, mark, position, equity)
        outcomes.add((got.allowed, got.state, (got.reasons or ["-"])[0].split(" ")[0]))
    # the sequence reached allowed, blocked-by-limit, halted and invalid-input decisions
    codes = {code for _, _, code in outcomes}
    assert {"-", "max_order_notional", "max_daily_loss_abs", "invalid_input:"} <= codes, outcomes
    assert any(allowed for allowed, _, _ in outcomes) and any(not allowed for allowed, _, _ in outcomes)


def test_one_portfolio_per_symbol_never_mixes_symbols(root):
    clock = FakeClock(datetime(2025, 12, 7, 12, tzinfo=UTC))
    gate = RiskGate(root, "testnet", clock=clock, log=logging.getLogger("test.riskgate"))
    gate.observe(10_000.0)
    # a large ETH position must not count against a BTC order (the portfolio holds one symbol)
    gate.check(symbol="ETH/EUR", side="buy", quantity=1.0, price=3000.0, position=2.5, cash=0.0, equity=10_000.0)
    btc = gate.check(symbol="BTC/EUR", side="buy", quantity=0.01, price=60_000.0, position=0.0, cash=10_000.0,
                     equity=10_000.0)
    assert btc.allowed and btc.state == "ACTIVE", btc
    assert gate._kept["BTC/EUR"][1].positions == {"BTC/EUR": 0.0}
