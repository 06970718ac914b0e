"""Use cases of the desk that send or cancel orders, each through the order gateway: smoke test, order
previews, cancel-all, liquidation, the start of live trading."""
