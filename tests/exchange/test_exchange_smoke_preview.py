"""The smoke test's validate-only preview needs no base currency: on an account that holds less BTC
than the preview amount (the market buy filled less when the price moved), an exchange that checks
funds for validate-only orders (Kraken, the loopback simulator) must not fail the smoke test."""

from __future__ import annotations

from peaktrade.exchange.base import ExchangeOrderError


class _NoBaseFunds:
    """The dummy exchange, but every sell is refused for lack of base currency (as on a fresh account)."""

    def __init__(self, inner):
        self._inner = inner
        self.sides: list[tuple[str, bool]] = []

    def create_order(self, symbol, side, type, amount, price=None, **kw):  # noqa: A002, ANN001, ANN003, ANN201
        self.sides.append((side, bool(kw.get("validate_only"))))
        if side == "sell":
            raise ExchangeOrderError("Insufficient funds")
        return self._inner.create_order(symbol, side, type, amount, price, **kw)

    def __getattr__(self, name):  # noqa: ANN001, ANN204
        return getattr(self._inner, name)


def test_smoke_passes_on_an_account_without_base_currency(droot):
    from peaktrade.config import load_config
    from peaktrade.exchange.factory import make_exchange
    from peaktrade.ops.smoke import run_smoke
    from peaktrade.root import Root

    root = Root(droot)
    client = _NoBaseFunds(make_exchange(load_config(root), mode="testnet"))
    report = run_smoke(root, client=client)
    assert report.passed, report.text()
    assert ("buy", True) in client.sides and all(side == "buy" for side, _ in client.sides)
