"""Open orders count at their worst in the desk-wide risk decision (DESIGN 5, issue 8).

An open order may fill or never fill. A pending sell must not make room for another symbol's buy: if the
sell is rejected or rests, the account holds both. Found by CI: two concurrent shadow sessions on one
account held 1,023 EUR under a 700 EUR ``max_total_exposure`` because the ETH session's sell was reserved
(and counted net) before the BTC session's buy, and filled only after it.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peaktrade.clock import FakeClock
from peaktrade.desk.store import Intent, Ledger, Position
from peaktrade.gateway.deskrisk import DeskRisk, pending_sides, worst_position
from peaktrade.policy.limits import RiskLimits

LIMITS = RiskLimits(stage="shadow", max_order_notional=1000.0, max_symbol_exposure=5000.0,
                    max_total_exposure=700.0, max_open_positions=5)


def ledger(**held: tuple[float, float]) -> Ledger:
    """A ledger holding {symbol: (quantity, mark)} ('_' for '/')."""
    positions = {s.replace("_", "/"): Position(s.replace("_", "/"), q, m, m) for s, (q, m) in held.items()}
    return Ledger("paper", 10_000.0, positions=positions, version=7)


def intent(symbol: str, side: str, qty: float, n: int = 0, filled: float = 0.0) -> Intent:
    return Intent(f"cid{symbol[:3]}{side}{n}", "paper", symbol, side, qty, None, "market", "run", f"bar-{n}",
                  "open", filled=filled)


def decide(risk: DeskRisk, led: Ledger, open_intents: list[Intent], symbol: str, side: str, qty: float, mark: float):
    return risk.decide(led, open_intents, symbol=symbol, side=side, quantity=qty, price=None, mark=mark)


def test_a_pending_sell_makes_no_room_for_another_symbols_buy():
    # the CI case: ETH held 522.7 EUR with a sell of all of it open; a 500 EUR BTC buy must still be blocked
    led = ledger(ETH_EUR=(0.127577412727237, 4097.41))
    sell = intent("ETH/EUR", "sell", 0.127577412727237)
    decision = decide(DeskRisk(LIMITS), led, [sell], "BTC/EUR", "buy", 0.0075053845845128, 66652.15)
    assert not decision.allowed
    assert decision.reasons == ["max_total_exposure exceeded (1022.99 > 700.00)"]
    # once the sell has filled, the room is there
    after = ledger(ETH_EUR=(0.0, 3809.64))
    assert decide(DeskRisk(LIMITS), after, [], "BTC/EUR", "buy", 0.0075053845845128, 66652.15).allowed


def test_a_pending_buy_counts_against_the_next_order():
    buy = intent("BTC/EUR", "buy", 0.0075)  # BTC was traded before: the ledger has its mark
    decision = decide(DeskRisk(LIMITS), ledger(BTC_EUR=(0.0, 66000.0)), [buy], "ETH/EUR", "buy", 0.12, 4100.0)
    assert not decision.allowed and decision.reasons == ["max_total_exposure exceeded (987.00 > 700.00)"]


def test_on_its_own_symbol_an_order_is_checked_on_its_own_side():
    risk = DeskRisk(LIMITS)
    led = ledger(ETH_EUR=(0.1, 4000.0))  # 400 EUR held
    sell_all = intent("ETH/EUR", "sell", 0.1)
    # a buy: the open sell may never fill, so the 400 held stay counted: 400 + 400 > 700
    assert not decide(risk, led, [sell_all], "ETH/EUR", "buy", 0.1, 4000.0).allowed
    # a second sell of 0.1 is not "reducing": with the first it makes a short of 0.1 (400 <= 700 passes);
    # a second sell of 0.2 makes a short of 0.2 (800 > 700) and is blocked
    assert decide(risk, led, [sell_all], "ETH/EUR", "sell", 0.1, 4000.0).allowed
    blocked = decide(risk, led, [sell_all], "ETH/EUR", "sell", 0.2, 4000.0)
    assert not blocked.allowed and blocked.reasons == ["max_total_exposure exceeded (800.00 > 700.00)"]
    # the kept portfolio is left at the worst of both sides: another symbol's view is unchanged
    assert not decide(risk, led, [sell_all], "BTC/EUR", "buy", 0.005, 66000.0).allowed


def test_a_partly_filled_order_counts_its_unfilled_rest():
    led = ledger(BTC_EUR=(0.004, 60000.0))  # 240 EUR held, from 0.004 of the 0.01 order
    partial = intent("BTC/EUR", "buy", 0.01, filled=0.004)
    assert pending_sides(led, [partial]) == {"BTC/EUR": (0.004, pytest.approx(0.006), 0.0)}
    # worst: 0.01 x 60,000 = 600 held if the rest fills; a 200 EUR ETH buy makes 800
    assert not decide(DeskRisk(LIMITS), led, [partial], "ETH/EUR", "buy", 0.05, 4000.0).allowed
    assert decide(DeskRisk(LIMITS), led, [partial], "ETH/EUR", "buy", 0.02, 4000.0).allowed


def test_worst_position_takes_the_larger_side():
    assert worst_position(1.0, 2.0, -0.5) == 3.0
    assert worst_position(1.0, 0.0, -4.0) == -3.0
    assert worst_position(0.0, 0.0, 0.0) == 0.0


def _exposure(positions: dict[str, float], marks: dict[str, float]) -> float:
    return sum(abs(q) * marks[s] for s, q in positions.items())


def _worst_total(held: dict[str, float], open_orders: list[tuple[str, float]], marks: dict[str, float]) -> float:
    """The largest total exposure of any outcome: every subset of the open orders filled."""
    worst = 0.0
    for n in range(len(open_orders) + 1):
        for filled in itertools.combinations(open_orders, n):
            pos = dict(held)
            for sym, signed in filled:
                pos[sym] = pos.get(sym, 0.0) + signed
            worst = max(worst, _exposure(pos, marks))
    return worst


SYMBOLS = ("BTC/EUR", "ETH/EUR", "SOL/EUR")
MARKS = {"BTC/EUR": 60_000.0, "ETH/EUR": 4_000.0, "SOL/EUR": 200.0}
notional = st.sampled_from([0.0, 50.0, 150.0, 300.0, 450.0])


@settings(max_examples=300, deadline=None)
@given(held=st.tuples(notional, notional, notional), held_short=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       orders=st.lists(st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]), notional.filter(bool)),
                       max_size=4),
       new=st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]), notional.filter(bool)))
def test_an_allowed_order_never_raises_the_worst_outcome_above_the_limit(held, held_short, orders, new):
    """Whatever subset of the open orders and the new one fills, an allowed order keeps the total exposure
    within max_total_exposure, or it did not raise the worst outcome at all (a reducing order)."""
    limits = RiskLimits(stage="shadow", max_total_exposure=700.0)
    positions = {s: (-1 if short else 1) * n / MARKS[s]
                 for s, n, short in zip(SYMBOLS, held, held_short, strict=True) if n}
    led = Ledger("paper", 10_000.0, positions={s: Position(s, q, MARKS[s], MARKS[s]) for s, q in positions.items()},
                 version=1)
    open_intents = [intent(s, side, n / MARKS[s], i) for i, (s, side, n) in enumerate(orders)]
    signed = [(it.symbol, it.signed_remaining) for it in open_intents]
    sym, side, n = new
    qty = n / MARKS[sym]
    risk = DeskRisk(limits, clock=FakeClock())
    decision = decide(risk, led, open_intents, sym, side, qty, MARKS[sym])
    # the same decision from a fresh DeskRisk: the kept portfolio left nothing behind
    fresh = decide(DeskRisk(limits, clock=FakeClock()), led, open_intents, sym, side, qty, MARKS[sym])
    assert (fresh.allowed, fresh.state, fresh.reasons) == (decision.allowed, decision.state, decision.reasons)
    if decision.allowed:
        before = _worst_total(positions, signed, MARKS)
        after = _worst_total(positions, [*signed, (sym, qty if side == "buy" else -qty)], MARKS)
        assert after <= 700.0 * (1 + 1e-9) or after <= before * (1 + 1e-9)


def test_a_liquidation_never_counts_on_an_open_order_of_the_other_side(tmp_path):
    import logging

    from peaktrade.gateway import Gateway, OrderRequest
    from peaktrade.gateway.venues import PaperVenue
    from peaktrade.policy.limits import load_risk_limits
    from peaktrade.root import Root

    from .conftest import init_root

    root = Root.resolve(init_root(tmp_path / "desk"))
    gw = Gateway(root, account="paper", venue=PaperVenue(0.0, 0.0), limits=load_risk_limits(root, "testnet"),
                 clock=FakeClock(), log=logging.getLogger("test.gateway"))
    origin = "shadow_20251207_120000_abcdef"
    assert gw.submit(OrderRequest("BTC/EUR", "buy", 0.002, 60000.0, origin, "bar-1")).status == "filled"
    # another session's buy of 0.001 is reserved and open (not filled yet)
    ok, _ = gw.store.reserve(Intent("openbuy1", "paper", "BTC/EUR", "buy", 0.001, None, "market", "other", "bar-9",
                                    "open"), lambda ledger, intents: (True, None))
    assert ok
    # selling 0.003 would close 0.002 + the open 0.001 only if that buy fills; if it does not, it opens a short
    out = gw.submit(OrderRequest("BTC/EUR", "sell", 0.003, 60000.0, origin, "liq-1", reduce_only=True))
    assert out.status == "blocked" and "does not reduce the position 0.002" in out.message
    out = gw.submit(OrderRequest("BTC/EUR", "sell", 0.002, 60000.0, origin, "liq-2", reduce_only=True))
    assert out.status == "filled" and gw.ledger().positions["BTC/EUR"].quantity == 0.0


def test_another_sessions_position_is_valued_at_the_current_market(tmp_path):
    """A held position's mark in the desk ledger follows the market (in steps of MARK_STEP), so another
    session's exposure check does not value it at its old fill price."""
    import logging

    from peaktrade.gateway import Gateway, OrderRequest
    from peaktrade.gateway.core import MARK_STEP
    from peaktrade.gateway.venues import PaperVenue
    from peaktrade.root import Root

    from .conftest import init_root

    root = Root.resolve(init_root(tmp_path / "desk"))

    def session() -> Gateway:
        return Gateway(root, account="paper", venue=PaperVenue(0.0, 0.0), limits=LIMITS, clock=FakeClock(),
                       log=logging.getLogger("test.gateway"))

    eth, btc = session(), session()
    assert eth.submit(OrderRequest("ETH/EUR", "buy", 5.0, 100.0, "shadow_eth", "bar-1")).status == "filled"
    version = eth.ledger().version
    eth.observe("ETH/EUR", 100.0 * (1 + MARK_STEP / 2))  # a small move: nothing written
    assert eth.ledger().version == version and eth.ledger().positions["ETH/EUR"].mark == 100.0
    eth.observe("ETH/EUR", 130.0)  # the ETH session's bar: 5 ETH are worth 650 now
    assert btc.ledger().positions["ETH/EUR"].mark == 130.0
    out = btc.submit(OrderRequest("BTC/EUR", "buy", 1.0, 100.0, "shadow_btc", "bar-1"))
    assert out.status == "blocked" and out.reasons == ["max_total_exposure exceeded (750.00 > 700.00)"]
    assert btc.submit(OrderRequest("BTC/EUR", "buy", 0.5, 100.0, "shadow_btc", "bar-2")).status == "filled"


def test_an_open_order_on_a_new_symbol_does_not_block_the_other_sessions(tmp_path):
    """The symbol's mark is in the ledger from the session's first bar, before its first fill: another
    session's decision values the open order instead of refusing for a missing mark."""
    import logging

    from peaktrade.gateway import Gateway, OrderRequest
    from peaktrade.gateway.venues import PaperVenue
    from peaktrade.root import Root

    from .conftest import init_root

    root = Root.resolve(init_root(tmp_path / "desk"))

    def session() -> Gateway:
        return Gateway(root, account="paper", venue=PaperVenue(0.0, 0.0), limits=LIMITS, clock=FakeClock(),
                       log=logging.getLogger("test.gateway"))

    sol, eth = session(), session()
    sol.observe("SOL/EUR", 200.0)
    sol.observe("SOL/EUR", float("nan"))  # a broken price is never written into the ledger
    assert eth.ledger().positions["SOL/EUR"].mark == 200.0 and eth.ledger().positions["SOL/EUR"].quantity == 0.0
    # a resting SOL buy of 300 EUR, not filled yet
    ok, _ = sol.store.reserve(Intent("restingsol", "paper", "SOL/EUR", "buy", 1.5, 200.0, "limit", "shadow_sol",
                                     "bar-1", "open"), lambda ledger, intents: (True, None))
    assert ok
    out = eth.submit(OrderRequest("ETH/EUR", "buy", 0.1, 4000.0, "shadow_eth", "bar-1"))
    assert out.status == "filled", out.reasons
    out = eth.submit(OrderRequest("ETH/EUR", "buy", 0.01, 4000.0, "shadow_eth", "bar-2"))
    assert out.status == "blocked" and out.reasons == ["max_total_exposure exceeded (740.00 > 700.00)"]
