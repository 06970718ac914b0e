"""The simulator's account and matching: orders through Kraken's lifecycle, funds held by open orders,
fills at the book (taker) or at the limit (maker), trades, expiry and the dead-man switch.

Orders are kept as Kraken reports them (QueryOrders' fields); keys starting with ``_`` are the engine's own
and never leave. All methods run under the simulator's lock.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

from peaktrade.exchange.sim.pairs import Pair, decimals_of
from peaktrade.exchange.sim.profile import Behaviour

DUPLICATE = "EOrder:Duplicate order"  # Kraken's refusal of a cl_ord_id already used by an open order
LIVE = ("pending", "open")


class KrakenError(Exception):
    """An error Kraken reports in the reply's ``error`` list."""


def _ts(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _floor(x: float, decimals: int) -> float:
    q = 10 ** decimals
    return math.floor(x * q + 1e-9) / q


class Engine:
    def __init__(self, market: Any, pairs: dict[str, Pair], balances: dict[str, float], *, taker: float,
                 maker: float, behaviour: Behaviour):
        self.market, self.pairs, self.balances = market, pairs, balances
        self.taker, self.maker, self.behaviour = taker, maker, behaviour
        self.orders: dict[str, dict[str, Any]] = {}
        self.trades: dict[str, dict[str, Any]] = {}
        self.dead_man_at: float | None = None
        self._ids, self._tids = itertools.count(1), itertools.count(1)

    # --- lookups ---
    def symbol(self, pair: str) -> str:
        for sym, p in self.pairs.items():
            if pair in (p.id, p.altname, sym, sym.replace("/", ""), p.wsname):
                return sym
        raise KrakenError("EQuery:Unknown asset pair")

    def book(self, sym: str) -> tuple[float, float, float]:
        t = self.market.fetch_ticker(sym)
        return float(t["bid"]), float(t["ask"]), float(t["last"])

    def held(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for o in self.orders.values():
            if o["status"] in LIVE and o["_hold"] > 0:
                out[o["_hold_cur"]] = out.get(o["_hold_cur"], 0.0) + o["_hold"]
        return out

    def free(self, cur: str) -> float:
        return self.balances.get(cur, 0.0) - self.held().get(cur, 0.0)

    # --- AddOrder ---
    def add_order(self, params: dict[str, str], now: float) -> dict[str, Any]:
        sym = self.symbol(params.get("pair", ""))
        p = self.pairs[sym]
        side, otype = params.get("type"), params.get("ordertype")
        if side not in ("buy", "sell") or otype not in ("market", "limit"):
            raise KrakenError("EGeneral:Invalid arguments")
        try:
            volume = float(params.get("volume", ""))
        except ValueError:
            raise KrakenError("EGeneral:Invalid arguments:volume") from None
        if volume <= 0 or decimals_of(params["volume"].rstrip("0")) > p.lot_decimals:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        price = None
        if otype == "limit":
            if not params.get("price"):
                raise KrakenError("EGeneral:Invalid arguments:price")
            price = float(params["price"])
            if price <= 0:
                raise KrakenError("EOrder:Invalid price")
            if decimals_of(params["price"].rstrip("0")) > p.pair_decimals:
                raise KrakenError(f"EOrder:Invalid price:{p.id} price can only be specified up to "
                                  f"{p.pair_decimals} decimals.")
        cid, userref = params.get("cl_ord_id") or None, params.get("userref")
        if userref is not None and not userref.lstrip("-").isdigit():
            raise KrakenError("EGeneral:Invalid arguments:userref")
        bid, ask, _ = self.book(sym)
        ref = price if price is not None else (ask if side == "buy" else bid)
        # Kraken's minimums and precision apply to validate-only orders too; funds do not
        if volume < float(p.ordermin):
            raise KrakenError("EOrder:Order minimum not met")
        if volume * ref < float(p.costmin):
            raise KrakenError("EOrder:Cost minimum not met")
        descr = f"{side} {volume:.{p.lot_decimals}f} {p.altname} @ " + (
            f"limit {price:.{p.pair_decimals}f}" if price is not None else "market")
        if params.get("validate", "").lower() in ("true", "1"):
            return {"descr": {"order": descr}}
        if cid and any(o.get("cl_ord_id") == cid and o["status"] in LIVE for o in self.orders.values()):
            raise KrakenError(DUPLICATE)
        hold_cur, hold = (p.quote, volume * ref * (1 + self.taker)) if side == "buy" else (p.base, volume)
        if hold > self.free(hold_cur) + 1e-12:
            raise KrakenError("EOrder:Insufficient funds")
        n = next(self._ids)
        txid = f"O{n:05d}-SIMUL-{int(now * 1000) % 1000000:06d}"
        expire = _expiry(params.get("expiretm"), now)
        self.orders[txid] = {
            "refid": None, "userref": int(userref) if userref is not None else 0, "cl_ord_id": cid,
            "status": "pending" if self.behaviour.pending_requests > 0 else "open", "opentm": now, "starttm": 0,
            "expiretm": expire or 0,
            "descr": {"pair": p.altname, "type": side, "ordertype": otype,
                      "price": f"{price or 0:.{p.pair_decimals}f}", "price2": "0", "leverage": "none",
                      "order": descr, "close": ""},
            "vol": f"{volume:.{p.lot_decimals}f}", "vol_exec": f"{0:.{p.lot_decimals}f}", "cost": "0.00000",
            "fee": "0.00000", "price": "0.00000", "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
            "oflags": "fciq", "trades": [],
            "_symbol": sym, "_filled": 0.0, "_cost": 0.0, "_fee": 0.0, "_hold": hold, "_hold_cur": hold_cur,
            "_pending": self.behaviour.pending_requests, "_steps": 0, "_taking": None,
        }
        if self.behaviour.pending_requests <= 0:
            self.advance(txid, now)  # placement itself is the first matching step
        return {"descr": {"order": descr}, "txid": [txid]}

    # --- matching ---
    def sweep(self, now: float) -> None:
        if self.dead_man_at is not None and now >= self.dead_man_at:
            self.dead_man_at = None
            for o in self.orders.values():
                if o["status"] in LIVE:
                    self._close(o, "canceled", now, reason="Dead man switch")
        for txid, o in list(self.orders.items()):
            if o["status"] in LIVE and o["expiretm"] and now >= o["expiretm"]:
                self._close(o, "expired", now, reason="Order expired")
            elif o["status"] in LIVE:
                self.advance(txid, now)

    def advance(self, txid: str, now: float) -> None:
        """One matching step: pending -> open; then a taking order fills a part at the book (taker fee),
        a resting limit order that the book crossed fills a part at its limit (maker fee)."""
        o = self.orders[txid]
        if o["status"] == "pending":
            o["_pending"] -= 1
            if o["_pending"] <= 0:
                o["status"] = "open"
            return
        sym, side = o["_symbol"], o["descr"]["type"]
        bid, ask, _ = self.book(sym)
        touch = ask if side == "buy" else bid
        limit = float(o["descr"]["price"]) if o["descr"]["ordertype"] == "limit" else None
        crosses = limit is None or (touch <= limit if side == "buy" else touch >= limit)
        if o["_taking"] is None:  # decided once, when the order reaches the book
            o["_taking"] = crosses
        if not crosses:
            return
        taking = o["_taking"]
        steps = max(1, self.behaviour.fill_steps if taking else self.behaviour.maker_steps)
        p = self.pairs[sym]
        volume = float(o["vol"])
        remaining = volume - o["_filled"]
        o["_steps"] += 1
        qty = remaining if o["_steps"] >= steps else min(remaining, _floor(volume / steps, p.lot_decimals))
        if qty <= 0:
            qty = remaining
        self._fill(txid, o, qty, touch if taking else limit, maker=not taking, now=now)  # type: ignore[arg-type]

    def _fill(self, txid: str, o: dict[str, Any], qty: float, price: float, *, maker: bool, now: float) -> None:
        p = self.pairs[o["_symbol"]]
        remaining = float(o["vol"]) - o["_filled"]
        cost = qty * price
        fee = cost * (self.maker if maker else self.taker)
        sign = 1 if o["descr"]["type"] == "buy" else -1
        self.balances[p.base] = self.balances.get(p.base, 0.0) + sign * qty
        self.balances[p.quote] = self.balances.get(p.quote, 0.0) - sign * cost - fee
        o["_hold"] = 0.0 if qty >= remaining - 1e-12 else o["_hold"] * (1 - qty / remaining)
        o["_filled"] += qty
        o["_cost"] += cost
        o["_fee"] += fee
        n = next(self._tids)
        tid = f"T{n:05d}-SIMUL-{int(now * 1000) % 1000000:06d}"
        self.trades[tid] = {
            "ordertxid": txid, "postxid": f"P{n:05d}-SIMUL-{n:06d}", "pair": p.id, "time": now,
            "type": o["descr"]["type"], "ordertype": o["descr"]["ordertype"], "price": f"{price:.{p.pair_decimals}f}",
            "cost": f"{cost:.{p.cost_decimals}f}", "fee": f"{fee:.{p.cost_decimals}f}",
            "vol": f"{qty:.{p.lot_decimals}f}", "margin": "0.00000", "leverage": "0", "misc": "",
            "trade_id": n, "maker": maker,
        }
        o["trades"].append(tid)
        o.update(vol_exec=f"{o['_filled']:.{p.lot_decimals}f}", cost=f"{o['_cost']:.{p.cost_decimals}f}",
                 fee=f"{o['_fee']:.{p.cost_decimals}f}", price=f"{o['_cost'] / o['_filled']:.{p.pair_decimals + 4}f}")
        if o["_filled"] >= float(o["vol"]) - 1e-12:
            self._close(o, "closed", now)

    def _close(self, o: dict[str, Any], status: str, now: float, *, reason: str | None = None) -> None:
        o.update(status=status, closetm=now, reason=reason, _hold=0.0)

    # --- cancels and the dead-man switch ---
    def cancel(self, ref: str, now: float) -> tuple[int, float]:
        """Cancel open orders by txid, cl_ord_id or userref; returns (count, age of the youngest in s)."""
        hits = [o for t, o in self.orders.items() if o["status"] in LIVE
                and ref in (t, o.get("cl_ord_id"), str(o.get("userref")) if o.get("userref") else None)]
        if not hits:
            raise KrakenError("EOrder:Unknown order")
        for o in hits:
            self._close(o, "canceled", now, reason="User requested")
        return len(hits), min(now - o["opentm"] for o in hits)

    def cancel_all(self, now: float) -> int:
        hits = [o for o in self.orders.values() if o["status"] in LIVE]
        for o in hits:
            self._close(o, "canceled", now, reason="User requested")
        return len(hits)

    def cancel_all_after(self, timeout: str | None, now: float) -> dict[str, str]:
        if timeout is None or not timeout.isdigit() or int(timeout) > 86400:
            raise KrakenError("EGeneral:Invalid arguments:timeout")
        seconds = int(timeout)
        self.dead_man_at = now + seconds if seconds > 0 else None
        return {"currentTime": _ts(now), "triggerTime": _ts(now + seconds) if seconds > 0 else "0"}

    # --- queries ---
    def view(self, o: dict[str, Any], trades: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in o.items() if not k.startswith("_")}
        if not trades or not out["trades"]:
            out.pop("trades")
        if out["status"] in LIVE:
            out.pop("reason", None)
        return out

    def matching(self, params: dict[str, str], live: bool) -> list[tuple[str, dict[str, Any]]]:
        cid, userref = params.get("cl_ord_id"), params.get("userref")
        return [(t, o) for t, o in self.orders.items()
                if (o["status"] in LIVE) == live and (cid is None or o.get("cl_ord_id") == cid)
                and (userref is None or str(o.get("userref")) == userref)]


def _expiry(value: str | None, now: float) -> float | None:
    """Kraken's ``expiretm``: ``+<n>`` seconds from now, or a unix time; 0 or absent: no expiry."""
    if not value or value == "0":
        return None
    try:
        return now + float(value[1:]) if value.startswith("+") else float(value)
    except ValueError:
        raise KrakenError("EGeneral:Invalid arguments:expiretm") from None
