"""A stand-in for one host's session, run as its own process by the cluster scenario tests.

``watch ROOT OUT``: read the kill switch the way every order does (``read_kill_switch``) every 5 ms and
append ``<unix time> <state> <readable>`` to OUT on every change, until OUT.stop exists.
``reserve URL HOST N``: try N reservations of 1 BTC at 100 EUR on account testnet through the desk
risk decision (max_total_exposure 1000 EUR) and print how many were accepted.
``bind URL HOST REQUEST``: bind one approval use and print who holds it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def watch(root: str, out: str) -> None:
    from peaktrade.desk.killswitch import read_kill_switch
    from peaktrade.root import Root

    r, stop, last = Root(Path(root)), Path(out + ".stop"), None
    while not stop.exists():
        ks = read_kill_switch(r)
        now = (ks.state, ks.readable)
        if now != last:
            with open(out, "a") as fh:
                fh.write(f"{time.time():.6f} {ks.state} {ks.readable}\n")
            last = now
        time.sleep(0.005)


def reserve(url: str, host: str, n: int) -> None:
    from peaktrade.desk.postgres import PostgresDesk
    from peaktrade.desk.store import Intent
    from peaktrade.gateway.deskrisk import DeskRisk
    from peaktrade.policy.limits import RiskLimits

    store = PostgresDesk(url, host_id=host)
    risk = DeskRisk(RiskLimits(max_total_exposure=1000.0, max_symbol_exposure=1000.0, max_order_notional=500.0))
    accepted = 0
    for k in range(n):
        intent = Intent(f"{host}-{k}", "testnet", "BTC/EUR", "buy", 1.0, None, "market", f"run-{host}", str(k))

        def decide(ledger, open_intents):
            d = risk.decide(ledger, open_intents, symbol="BTC/EUR", side="buy", quantity=1.0, price=None, mark=100.0)
            return d.allowed, d

        ok, _ = store.reserve(intent, decide)
        accepted += ok
    print(accepted, flush=True)


def bind(url: str, host: str, request_id: str) -> None:
    from peaktrade.desk.postgres import PostgresDesk

    print(PostgresDesk(url, host_id=host).bind_approval(request_id, by=f"play-on-{host}", at="t"), flush=True)


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "watch":
        watch(*args)
    elif cmd == "reserve":
        reserve(args[0], args[1], int(args[2]))
    else:
        bind(*args)
