"""A loopback Kraken REST simulator for tests and demos (``peaktrade exchange simulate --port N``).

It speaks the subset of Kraken's REST API that ccxt's ``kraken`` class uses for markets, ticker, OHLC,
balance and orders, checks the real ``API-Sign`` (HMAC-SHA512 over path + SHA256(nonce + body) with the
base64-decoded secret) and a strictly increasing nonce, and can inject faults. Prices come from the dummy
exchange's deterministic walk. It deliberately does NOT deduplicate client order ids: proving that the
adapter never places an order twice is the adapter's job, so the simulator must not hide a duplicate.
Bound to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from peaktrade.exchange.dummy import DummyExchange

FAULTS = ("timeout", "http_500", "rate_limit", "invalid_key", "invalid_nonce", "insufficient_funds", "garbage",
          "accept_then_timeout")
_ERRORS = {"rate_limit": "EAPI:Rate limit exceeded", "invalid_key": "EAPI:Invalid key",
           "invalid_nonce": "EAPI:Invalid nonce", "insufficient_funds": "EOrder:Insufficient funds"}
_ASSET = {"BTC": "XXBT", "ETH": "XETH", "EUR": "ZEUR", "USD": "ZUSD"}
_ALT = {"XXBT": "XBT"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_WRITES = ("AddOrder", "CancelOrder", "CancelAll")  # where "accept_then_timeout" applies


def _asset(code: str) -> str:
    return _ASSET.get(code, code)


class KrakenSimulator:
    def __init__(self, api_key: str, api_secret: str, *, prices: dict[str, float] | None = None,
                 balances: dict[str, float] | None = None, fee_rate: float = 0.0026, seed: int = 42,
                 timeout_delay_s: float = 1.0, time_offset_s: float = 0.0):
        self.api_key, self._secret = api_key, base64.b64decode(api_secret)
        self.market = DummyExchange({"seed": seed, "start_prices": prices or {"BTC/EUR": 60000.0, "ETH/EUR": 3000.0},
                                     "bar_seconds": 15, "volatility": 0.002})
        self.pairs = {sym: _asset(sym.split("/")[0]) + _asset(sym.split("/")[1]) for sym in self.market.start_prices}
        self.balances = {_asset(k): float(v) for k, v in (balances or {"EUR": 10000.0}).items()}
        self.fee_rate, self.timeout_delay_s, self.time_offset_s = fee_rate, timeout_delay_s, time_offset_s
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []  # paths served, in order
        self._faults: list[tuple[str, str | None]] = []
        self._nonce = 0
        self._ids = itertools.count(1)
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # --- control ---
    def inject(self, fault: str, *, path: str | None = None, times: int = 1) -> None:
        """Fail the next ``times`` requests (to ``path``, e.g. ``AddOrder``, default any) with ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        with self.lock:
            self._faults += [(fault, path)] * times

    def _take_fault(self, name: str) -> str | None:
        with self.lock:
            for i, (fault, path) in enumerate(self._faults):
                if path in (None, name) and (fault != "accept_then_timeout" or name in _WRITES):
                    del self._faults[i]
                    return fault
        return None

    def start(self, port: int = 0) -> str:
        sim = self

        class Handler(_Handler):
            simulator = sim

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="kraken-sim",
                         daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._server is not None, "simulator not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> KrakenSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- request handling ---
    def handle(self, api: str, name: str, params: dict[str, str], headers: Any, body: str) -> tuple[int, str]:
        self.requests.append(f"{api}/{name}")
        fault = self._take_fault(name)
        if fault == "timeout":  # the request is lost: nothing happens, the client waits in vain
            time.sleep(self.timeout_delay_s)
            return 504, "Gateway Timeout"
        if fault == "http_500":
            return 500, "Internal Server Error"
        elif fault == "garbage":
            return 200, "<html>\x00garbage"
        elif fault in ("rate_limit", "invalid_key", "invalid_nonce") or (fault == "insufficient_funds"
                                                                          and name == "AddOrder"):
            return 200, json.dumps({"error": [_ERRORS[fault]]})
        with self.lock:
            if api == "private":
                error = self._authenticate(name, params, headers, body)
                if error:
                    return 200, json.dumps({"error": [error]})
            handler = getattr(self, f"_{api}_{name}", None)
            if handler is None:
                return 404, json.dumps({"error": [f"EGeneral:Unknown method {name}"]})
            self._sweep()
            try:
                result = handler(params)
            except _KrakenError as exc:
                return 200, json.dumps({"error": [str(exc)]})
        if fault == "accept_then_timeout":
            time.sleep(self.timeout_delay_s)  # done on the exchange; the reply never reaches the client in time
        return 200, json.dumps({"error": [], "result": result})

    def _authenticate(self, name: str, params: dict[str, str], headers: Any, body: str) -> str | None:
        if headers.get("API-Key") != self.api_key:
            return "EAPI:Invalid key"
        nonce = params.get("nonce", "")
        digest = hashlib.sha256((nonce + body).encode()).digest()
        expected = hmac.new(self._secret, f"/0/private/{name}".encode() + digest, hashlib.sha512).digest()
        try:
            given = base64.b64decode(headers.get("API-Sign", ""))
        except ValueError:
            given = b""
        if not hmac.compare_digest(expected, given):
            return "EAPI:Invalid signature"
        if not nonce.isdigit() or int(nonce) <= self._nonce:
            return "EAPI:Invalid nonce"
        self._nonce = int(nonce)
        return None

    # --- public endpoints ---
    def _public_Time(self, params: dict[str, str]) -> dict[str, Any]:
        now = time.time() + self.time_offset_s
        return {"unixtime": int(now), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}

    def _public_Assets(self, params: dict[str, str]) -> dict[str, Any]:
        codes = {c for sym in self.pairs for c in sym.split("/")}
        return {_asset(c): {"aclass": "currency", "altname": _ALT.get(_asset(c), c), "decimals": 10,
                            "display_decimals": 5, "status": "enabled"} for c in sorted(codes)}

    def _public_AssetPairs(self, params: dict[str, str]) -> dict[str, Any]:
        out = {}
        for sym, pid in self.pairs.items():
            base, quote = (_asset(c) for c in sym.split("/"))
            alt = _ALT.get(base, base.lstrip("XZ") if len(base) == 4 else base) + quote[-3:]
            out[pid] = {"altname": alt, "wsname": sym.replace("BTC", "XBT"), "aclass_base": "currency", "base": base,
                        "aclass_quote": "currency", "quote": quote, "lot": "unit", "pair_decimals": 1,
                        "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [], "leverage_sell": [],
                        "fees": [[0, 0.26]], "fees_maker": [[0, 0.16]], "fee_volume_currency": "ZUSD",
                        "ordermin": "0.00005", "costmin": "0.5", "status": "online"}
        return out

    def _symbol(self, pair: str) -> str:
        for sym, pid in self.pairs.items():
            if pair in (pid, sym, sym.replace("/", ""), sym.replace("BTC", "XBT").replace("/", "")):
                return sym
        raise _KrakenError("EQuery:Unknown asset pair")

    def _public_Ticker(self, params: dict[str, str]) -> dict[str, Any]:
        sym = self._symbol(params.get("pair", ""))
        t = self.market.fetch_ticker(sym)
        last, bid, ask = (f"{t[k]:.1f}" for k in ("last", "bid", "ask"))
        return {self.pairs[sym]: {"a": [ask, "1", "1.000"], "b": [bid, "1", "1.000"], "c": [last, "0.01"],
                                  "v": ["10.0", "100.0"], "p": [last, last], "t": [10, 100],
                                  "l": [last, last], "h": [last, last], "o": last}}

    def _public_OHLC(self, params: dict[str, str]) -> dict[str, Any]:
        sym = self._symbol(params.get("pair", ""))
        interval = int(params.get("interval", "1"))
        since = int(params["since"]) * 1000 if params.get("since") else None
        bars = self.market.fetch_ohlcv(sym, f"{interval}m", since=since, limit=200)
        rows = [[int(ts // 1000), f"{o:.1f}", f"{h:.1f}", f"{low:.1f}", f"{c:.1f}", f"{c:.1f}", f"{v:.8f}", 5]
                for ts, o, h, low, c, v in bars]
        return {self.pairs[sym]: rows, "last": rows[-1][0] if rows else 0}

    # --- private endpoints ---
    def _private_Balance(self, params: dict[str, str]) -> dict[str, Any]:
        return {k: f"{v:.10f}" for k, v in self.balances.items()}

    def _private_BalanceEx(self, params: dict[str, str]) -> dict[str, Any]:
        return {k: {"balance": f"{v:.10f}", "hold_trade": "0.0000000000"} for k, v in self.balances.items()}

    def _private_AddOrder(self, params: dict[str, str]) -> dict[str, Any]:
        sym = self._symbol(params.get("pair", ""))
        side, otype = params.get("type"), params.get("ordertype")
        volume = float(params.get("volume", "0"))
        if side not in ("buy", "sell") or otype not in ("market", "limit") or volume <= 0:
            raise _KrakenError("EGeneral:Invalid arguments")
        price = float(params["price"]) if otype == "limit" and params.get("price") else None
        if otype == "limit" and not price:
            raise _KrakenError("EGeneral:Invalid arguments:price")
        cid = params.get("cl_ord_id")
        if cid and len(cid) > 18 and not _UUID.match(cid):  # Kraken: a UUID, or free text up to 18 characters
            raise _KrakenError("EGeneral:Invalid arguments:cl_ord_id")
        alt = self._public_AssetPairs({})[self.pairs[sym]]["altname"]
        descr = f"{side} {volume:.8f} {alt} @ " + (f"limit {price:.1f}" if price else "market")
        fill = self._fill_price(sym, side) if otype == "market" else price
        self._check_funds(sym, side, volume, fill)
        if params.get("validate", "").lower() in ("true", "1"):
            return {"descr": {"order": descr}}
        txid = f"O{next(self._ids):05d}-SIMUL-{int(time.time()) % 100000:05d}"
        self.orders[txid] = {"refid": None, "userref": 0, "cl_ord_id": params.get("cl_ord_id"), "status": "open",
                             "opentm": time.time(), "starttm": 0, "expiretm": 0,
                             "descr": {"pair": alt, "type": side, "ordertype": otype,
                                       "price": f"{price or 0:.1f}", "price2": "0", "leverage": "none",
                                       "order": descr, "close": ""},
                             "vol": f"{volume:.8f}", "vol_exec": "0.00000000", "cost": "0", "fee": "0",
                             "price": "0", "stopprice": "0", "limitprice": "0", "misc": "", "oflags": "fciq",
                             "_symbol": sym}
        if otype == "market":
            self._fill(txid, fill)
        return {"descr": {"order": descr}, "txid": [txid]}

    def _fill_price(self, sym: str, side: str) -> float:
        t = self.market.fetch_ticker(sym)
        return float(t["ask"] if side == "buy" else t["bid"])

    def _check_funds(self, sym: str, side: str, volume: float, price: float) -> None:
        base, quote = (_asset(c) for c in sym.split("/"))
        need, cur = (volume * price * (1 + self.fee_rate), quote) if side == "buy" else (volume, base)
        if need > self.balances.get(cur, 0.0) + 1e-12:
            raise _KrakenError("EOrder:Insufficient funds")

    def _fill(self, txid: str, price: float) -> None:
        order = self.orders[txid]
        base, quote = (_asset(c) for c in order["_symbol"].split("/"))
        volume = float(order["vol"])
        cost, sign = volume * price, (1 if order["descr"]["type"] == "buy" else -1)
        fee = cost * self.fee_rate
        self.balances[base] = self.balances.get(base, 0.0) + sign * volume
        self.balances[quote] = self.balances.get(quote, 0.0) - sign * cost - fee
        order.update(status="closed", closetm=time.time(), vol_exec=order["vol"], cost=f"{cost:.8f}",
                     fee=f"{fee:.8f}", price=f"{price:.1f}")

    def _sweep(self) -> None:
        for txid, order in self.orders.items():
            if order["status"] == "open" and order["descr"]["ordertype"] == "limit":
                last = float(self.market.fetch_ticker(order["_symbol"])["last"])
                limit = float(order["descr"]["price"])
                if (last <= limit) if order["descr"]["type"] == "buy" else (last >= limit):
                    self._fill(txid, limit)

    def _public_view(self, order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if not k.startswith("_")}

    def _matching(self, params: dict[str, str], open_: bool) -> list[tuple[str, dict[str, Any]]]:
        cid = params.get("cl_ord_id")
        return [(t, o) for t, o in self.orders.items()
                if (o["status"] == "open") == open_ and (cid is None or o.get("cl_ord_id") == cid)]

    def _private_OpenOrders(self, params: dict[str, str]) -> dict[str, Any]:
        return {"open": {t: self._public_view(o) for t, o in self._matching(params, True)}}

    def _private_ClosedOrders(self, params: dict[str, str]) -> dict[str, Any]:
        # like Kraken: the 50 most recently closed orders, newest first
        closed = sorted(self._matching(params, False), key=lambda item: item[1].get("closetm", 0), reverse=True)
        return {"closed": {t: self._public_view(o) for t, o in closed[:50]}, "count": len(closed)}

    def _private_QueryOrders(self, params: dict[str, str]) -> dict[str, Any]:
        ids = [t for t in params.get("txid", "").split(",") if t]
        missing = [t for t in ids if t not in self.orders]
        if missing or not ids:
            raise _KrakenError("EOrder:Unknown order")
        return {t: self._public_view(self.orders[t]) for t in ids}

    def _private_CancelOrder(self, params: dict[str, str]) -> dict[str, Any]:
        ref = params.get("txid") or params.get("cl_ord_id")
        hits = [t for t, o in self.orders.items() if ref in (t, o.get("cl_ord_id")) and o["status"] == "open"]
        if not hits:
            raise _KrakenError("EOrder:Unknown order")
        for t in hits:
            self.orders[t].update(status="canceled", closetm=time.time())
        return {"count": len(hits)}

    def _private_CancelAll(self, params: dict[str, str]) -> dict[str, Any]:
        hits = [o for o in self.orders.values() if o["status"] == "open"]
        for o in hits:
            o.update(status="canceled", closetm=time.time())
        return {"count": len(hits)}

    def orders_by_client_id(self, client_order_id: str) -> list[str]:
        with self.lock:
            return [t for t, o in self.orders.items() if o.get("cl_ord_id") == client_order_id]


class _KrakenError(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    simulator: KrakenSimulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out as two writes: without this each reply waits ~40 ms

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the outcome, not access logs
        pass

    def _dispatch(self, body: str) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "0" or parts[1] not in ("public", "private"):
            status, text = 404, json.dumps({"error": ["EGeneral:Unknown method"]})
        else:
            query = {k: v[-1] for k, v in parse_qs(url.query or body, keep_blank_values=True).items()}
            try:
                status, text = self.simulator.handle(parts[1], parts[2], query, self.headers, body)
            except Exception as exc:  # noqa: BLE001 - a simulator bug must answer, not hang the client
                status, text = 500, json.dumps({"error": [f"EGeneral:Internal error: {type(exc).__name__}"]})
        data = text.encode("utf-8", "replace")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout fault)

    def do_GET(self) -> None:
        self._dispatch("")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length).decode("utf-8", "replace"))
