"""A loopback Kraken REST simulator for tests and demos (``peaktrade exchange simulate --port N``).

It speaks the subset of Kraken's REST API that ccxt's ``kraken`` class uses (markets, ticker, OHLC, balances,
orders, trades, cancels, the dead-man switch), checks the real ``API-Sign`` (HMAC-SHA512 over path +
SHA256(nonce + body) with the base64-decoded secret) and a strictly increasing nonce, and can inject faults.
Prices come from the dummy exchange's deterministic walk. Bound to 127.0.0.1 only.

Like Kraken it refuses a ``cl_ord_id`` only while an order with it is open: a closed order's id can be
used again, so proving that an intent is never placed twice stays the adapter's job. How hard it is
(pending orders, partial fills, rate counters) is a behaviour profile: ``easy`` (default) or ``kraken``;
see ``peaktrade.exchange.sim.profile`` and docs/exchange.md for what it models and what it does not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from peaktrade.exchange.dummy import DummyExchange
from peaktrade.exchange.sim.endpoints import KrakenEndpoints
from peaktrade.exchange.sim.engine import Engine, KrakenError
from peaktrade.exchange.sim.pairs import asset, pair_for
from peaktrade.exchange.sim.profile import (
    ERROR_REPLIES,
    FAULTS,
    LANDING,
    ORDER_ONLY,
    WRITES,
    Behaviour,
    DecayCounter,
    cancel_penalty,
    cloudflare_page,
    profile,
)

__all__ = ["FAULTS", "KrakenSimulator"]
_HISTORY = ("TradesHistory", "QueryTrades", "Ledgers", "QueryLedgers")  # cost 2 on the REST call counter


class KrakenSimulator(KrakenEndpoints):
    def __init__(self, api_key: str, api_secret: str, *, prices: dict[str, float] | None = None,
                 balances: dict[str, float] | None = None, fee_rate: float = 0.0026, seed: int = 42,
                 timeout_delay_s: float = 1.0, time_offset_s: float = 0.0, maker_fee_rate: float = 0.0016,
                 profile_name: str = "easy", behaviour: Behaviour | None = None):
        self.api_key, self._secret = api_key, base64.b64decode(api_secret)
        self.market = DummyExchange({"seed": seed, "start_prices": prices or {"BTC/EUR": 60000.0, "ETH/EUR": 3000.0},
                                     "bar_seconds": 15, "volatility": 0.002})
        self.pair_table = {sym: pair_for(sym) for sym in self.market.start_prices}
        self.pairs = {sym: p.id for sym, p in self.pair_table.items()}
        self.balances = {asset(k): float(v) for k, v in (balances or {"EUR": 10000.0}).items()}
        self.fee_rate, self.maker_fee_rate = fee_rate, maker_fee_rate
        self.timeout_delay_s, self.time_offset_s = timeout_delay_s, time_offset_s
        self.behaviour = behaviour or profile(profile_name)
        self.engine = Engine(self.market, self.pair_table, self.balances, taker=fee_rate, maker=maker_fee_rate,
                             behaviour=self.behaviour)
        self.orders = self.engine.orders  # txid -> Kraken's order fields (plus the engine's own `_` keys)
        self.trades = self.engine.trades
        self.requests: list[str] = []  # paths served, in order
        self._faults: list[tuple[str, str | None]] = []
        self._nonce = 0
        self._locked_until = 0.0
        self._api_counter: DecayCounter | None = None
        self._trade_counters: dict[str, DecayCounter] = {}
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # --- control ---
    def inject(self, fault: str, *, path: str | None = None, times: int = 1) -> None:
        """Fail the next ``times`` requests (to ``path``, e.g. ``AddOrder``, default any) with ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        with self.lock:
            self._faults += [(fault, path)] * times

    def lock_out(self, seconds: float | None = None) -> None:
        """Answer every private request with ``EGeneral:Temporary lockout`` for ``seconds`` (default: the
        profile's, about 15 minutes like Kraken); 0 lifts a lockout."""
        with self.lock:
            span = self.behaviour.lockout_s if seconds is None else seconds
            self._locked_until = time.monotonic() + span if span > 0 else 0.0

    def _take_fault(self, name: str) -> str | None:
        with self.lock:
            for i, (fault, path) in enumerate(self._faults):
                if path in (None, name) and (fault not in LANDING or name in WRITES):
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
        if fault in ("cloudflare_520", "cloudflare_522"):
            return int(fault[-3:]), cloudflare_page(int(fault[-3:]))
        if fault == "garbage":
            return 200, "<html>\x00garbage"
        if fault == "lockout":
            self.lock_out()
        if fault in ERROR_REPLIES and (fault not in ORDER_ONLY or name == "AddOrder"):
            return 200, _error(ERROR_REPLIES[fault])
        with self.lock:
            handler = getattr(self, f"_{api}_{name}", None)
            if api == "private":
                error = self._gate(name, params, headers, body)
                if error:
                    return 200, _error(error)
            if handler is None:
                return 200, _error("EGeneral:Unknown method")
        if fault == "late_landing":  # authenticated on arrival, applied after the client gave up and looked
            time.sleep(self.timeout_delay_s + self.behaviour.late_landing_delay_s)
        with self.lock:
            now = time.time()
            try:
                self.engine.sweep(now)
                result = handler(params)
            except KrakenError as exc:
                return 200, _error(str(exc))
        if fault in LANDING:
            time.sleep(self.timeout_delay_s)  # done on the exchange; the reply never reaches the client in time
        return 200, json.dumps({"error": [], "result": result})

    def _gate(self, name: str, params: dict[str, str], headers: Any, body: str) -> str | None:
        """Lockout, authentication, nonce and the rate counters, in Kraken's order."""
        if time.monotonic() < self._locked_until:
            return "EGeneral:Temporary lockout"
        error = self._authenticate(name, params, headers, body)
        if error or not self.behaviour.rate_counters:
            return error
        b = self.behaviour
        if name in ("AddOrder", "CancelOrder"):  # the matching engine's per-pair counter
            sym = self._order_symbol(name, params)
            if sym is None:
                return None
            counter = self._trade_counters.setdefault(sym, DecayCounter(b.trade_counter_max, b.trade_counter_decay))
            if name == "AddOrder":
                return None if counter.try_add(1) else "EOrder:Rate limit exceeded"
            counter.add(cancel_penalty(self._order_age(params)))
            return None
        if self._api_counter is None:
            self._api_counter = DecayCounter(b.api_counter_max, b.api_counter_decay)
        return None if self._api_counter.try_add(2 if name in _HISTORY else 1) else "EAPI:Rate limit exceeded"

    def _order_symbol(self, name: str, params: dict[str, str]) -> str | None:
        try:
            if name == "AddOrder":
                return self.engine.symbol(params.get("pair", ""))
        except KrakenError:
            return None
        ref = params.get("txid") or params.get("cl_ord_id")
        for t, o in self.orders.items():
            if ref in (t, o.get("cl_ord_id")):
                return o["_symbol"]
        return None

    def _order_age(self, params: dict[str, str]) -> float:
        ref = params.get("txid") or params.get("cl_ord_id")
        ages = [time.time() - o["opentm"] for t, o in self.orders.items() if ref in (t, o.get("cl_ord_id"))]
        return min(ages) if ages else 1e9

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

    # --- inspection (tests) ---
    def orders_by_client_id(self, client_order_id: str) -> list[str]:
        with self.lock:
            return [t for t, o in self.orders.items() if o.get("cl_ord_id") == client_order_id]

    def step(self, n: int = 1) -> None:
        """Run ``n`` matching steps without a request (as if other clients' requests went by)."""
        with self.lock:
            for _ in range(n):
                self.engine.sweep(time.time())


def _error(message: str) -> str:
    return json.dumps({"error": [message]})


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
            status, text = 404, _error("EGeneral:Unknown method")
        else:
            query = {k: v[-1] for k, v in parse_qs(url.query or body, keep_blank_values=True).items()}
            try:
                status, text = self.simulator.handle(parts[1], parts[2], query, self.headers, body)
            except Exception as exc:  # noqa: BLE001 - a simulator bug must answer, not hang the client
                status, text = 500, _error(f"EGeneral:Internal error: {type(exc).__name__}")
        data = text.encode("utf-8", "replace")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if text.startswith("<!DOCTYPE") else "application/json")
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
