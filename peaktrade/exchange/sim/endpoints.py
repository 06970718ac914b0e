"""The Kraken REST endpoints the simulator answers (public and private), over its engine's state.

A mixin of ``KrakenSimulator``: each ``_public_<Name>`` / ``_private_<Name>`` takes the request's
parameters and returns Kraken's ``result`` (or raises ``KrakenError`` with Kraken's error string); the
simulator has already authenticated, rate-limited and swept the book, and holds its lock.
"""

from __future__ import annotations

import re
import time
from typing import Any

from peaktrade.exchange.sim.engine import Engine, KrakenError
from peaktrade.exchange.sim.pairs import OHLC_CAP, OHLC_INTERVALS, Pair, asset_pairs_reply, assets_reply

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_PAGE = 50  # Kraken's page size for closed orders and trades history


class KrakenEndpoints:
    engine: Engine
    market: Any
    pair_table: dict[str, Pair]
    balances: dict[str, float]
    orders: dict[str, dict[str, Any]]
    trades: dict[str, dict[str, Any]]
    fee_rate: float
    maker_fee_rate: float
    time_offset_s: float

    # --- public endpoints ---
    def _public_Time(self, params: dict[str, str]) -> dict[str, Any]:
        now = time.time() + self.time_offset_s
        return {"unixtime": int(now), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}

    def _public_SystemStatus(self, params: dict[str, str]) -> dict[str, Any]:
        return {"status": "online", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def _public_Assets(self, params: dict[str, str]) -> dict[str, Any]:
        return assets_reply(list(self.pair_table.values()))

    def _public_AssetPairs(self, params: dict[str, str]) -> dict[str, Any]:
        return asset_pairs_reply(list(self.pair_table.values()), self.fee_rate * 100, self.maker_fee_rate * 100)

    def _public_Ticker(self, params: dict[str, str]) -> dict[str, Any]:
        sym = self.engine.symbol(params.get("pair", ""))
        p = self.pair_table[sym]
        t = self.market.fetch_ticker(sym)
        last, bid, ask = (f"{t[k]:.{p.pair_decimals}f}" for k in ("last", "bid", "ask"))
        return {p.id: {"a": [ask, "1", "1.000"], "b": [bid, "1", "1.000"], "c": [last, "0.01000000"],
                       "v": ["10.00000000", "100.00000000"], "p": [last, last], "t": [10, 100],
                       "l": [last, last], "h": [last, last], "o": last}}

    def _public_OHLC(self, params: dict[str, str]) -> dict[str, Any]:
        sym = self.engine.symbol(params.get("pair", ""))
        p = self.pair_table[sym]
        interval = params.get("interval", "1")
        if not interval.isdigit() or int(interval) not in OHLC_INTERVALS:
            raise KrakenError("EGeneral:Invalid arguments")
        since = int(float(params["since"])) if params.get("since") else None
        # Kraken keeps only the last 720 candles of an interval: `since` can only narrow that window
        tf = int(interval) * 60_000
        first = (int(time.time() * 1000) // tf - OHLC_CAP + 1) * tf
        start = first if since is None else max(first, since * 1000 + 1)
        bars = self.market.fetch_ohlcv(sym, f"{interval}m", since=start, limit=OHLC_CAP)
        d = p.pair_decimals
        rows = [[int(ts // 1000), f"{o:.{d}f}", f"{h:.{d}f}", f"{low:.{d}f}", f"{c:.{d}f}", f"{c:.{d}f}",
                 f"{v:.8f}", 5] for ts, o, h, low, c, v in bars]
        last = rows[-2][0] if len(rows) > 1 else (rows[-1][0] if rows else since or 0)  # the last committed one
        return {p.id: rows, "last": last}

    # --- private endpoints ---
    def _private_Balance(self, params: dict[str, str]) -> dict[str, Any]:
        return {k: f"{v:.10f}" for k, v in self.balances.items()}

    def _private_BalanceEx(self, params: dict[str, str]) -> dict[str, Any]:
        held = self.engine.held()
        return {k: {"balance": f"{v:.10f}", "hold_trade": f"{held.get(k, 0.0):.10f}"}
                for k, v in self.balances.items()}

    def _private_AddOrder(self, params: dict[str, str]) -> dict[str, Any]:
        cid = params.get("cl_ord_id")
        if cid and len(cid) > 18 and not _UUID.match(cid):  # Kraken: a UUID, or free text up to 18 characters
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
        return self.engine.add_order(params, time.time())

    def _private_OpenOrders(self, params: dict[str, str]) -> dict[str, Any]:
        trades = params.get("trades", "").lower() in ("true", "1")
        return {"open": {t: self.engine.view(o, trades) for t, o in self.engine.matching(params, True)}}

    def _private_ClosedOrders(self, params: dict[str, str]) -> dict[str, Any]:
        # like Kraken: newest first, 50 a page (`ofs`), filtered by start/end time, cl_ord_id and userref
        start, end = _time_arg(params.get("start")), _time_arg(params.get("end"))
        closed = [(t, o) for t, o in self.engine.matching(params, False)
                  if (start is None or o["closetm"] > start) and (end is None or o["closetm"] <= end)]
        closed.sort(key=lambda item: item[1]["closetm"], reverse=True)
        ofs = int(params.get("ofs") or 0)
        trades = params.get("trades", "").lower() in ("true", "1")
        return {"closed": {t: self.engine.view(o, trades) for t, o in closed[ofs:ofs + _PAGE]}, "count": len(closed)}

    def _private_QueryOrders(self, params: dict[str, str]) -> dict[str, Any]:
        ids = [t for t in params.get("txid", "").split(",") if t]
        if not ids or len(ids) > 50:
            raise KrakenError("EGeneral:Invalid arguments")
        if any(t not in self.orders for t in ids):
            raise KrakenError("EOrder:Invalid order")
        userref = params.get("userref")
        trades = params.get("trades", "").lower() in ("true", "1")
        return {t: self.engine.view(self.orders[t], trades) for t in ids
                if userref is None or str(self.orders[t]["userref"]) == userref}

    def _private_TradesHistory(self, params: dict[str, str]) -> dict[str, Any]:
        start, end = _time_arg(params.get("start")), _time_arg(params.get("end"))
        rows = [(t, tr) for t, tr in self.trades.items()
                if (start is None or tr["time"] > start) and (end is None or tr["time"] <= end)]
        rows.sort(key=lambda item: item[1]["time"], reverse=True)
        ofs = int(params.get("ofs") or 0)
        return {"trades": {t: dict(tr) for t, tr in rows[ofs:ofs + _PAGE]}, "count": len(rows)}

    def _private_QueryTrades(self, params: dict[str, str]) -> dict[str, Any]:
        ids = [t for t in params.get("txid", "").split(",") if t]
        if not ids or any(t not in self.trades for t in ids):
            raise KrakenError("EGeneral:Invalid arguments")
        return {t: dict(self.trades[t]) for t in ids}

    def _private_CancelOrder(self, params: dict[str, str]) -> dict[str, Any]:
        count, _ = self.engine.cancel(params.get("cl_ord_id") or params.get("txid") or "", time.time())
        return {"count": count}

    def _private_CancelAll(self, params: dict[str, str]) -> dict[str, Any]:
        return {"count": self.engine.cancel_all(time.time())}

    def _private_CancelAllOrdersAfter(self, params: dict[str, str]) -> dict[str, Any]:
        return self.engine.cancel_all_after(params.get("timeout"), time.time())


def _time_arg(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # a txid as start/end: not modelled, treated as no bound
