"""Test code only: point every exchange client of a PeakTrade process at the loopback Kraken simulator.

tests/gateway/test_live_session_sim.py puts this folder on PYTHONPATH of the processes it starts (the CLI
and the session workers the orchestrator launches), with PEAKTRADE_TEST_SIM_URL set. The product keeps no
switch that points live at a simulator: live refuses a base_url, and this override exists only here."""

import os

if os.environ.get("PEAKTRADE_TEST_SIM_URL"):
    import peaktrade.exchange.factory as _factory

    def _make_exchange(config, *, mode, clock=None):  # noqa: ANN001, ANN202
        from peaktrade.clock import SYSTEM_CLOCK
        from peaktrade.exchange.ccxt_adapter import CcxtExchange

        if mode in ("paper", "shadow"):
            execution = "validate_only"
        else:
            execution = "real" if mode == "live" else "sandbox"
        return CcxtExchange("kraken", mode=mode, api_key=os.environ["PEAKTRADE_TEST_SIM_KEY"],
                            secret=os.environ["PEAKTRADE_TEST_SIM_SECRET"], rate_limit_ms=0, timeout_ms=2000,
                            base_url=os.environ["PEAKTRADE_TEST_SIM_URL"], execution=execution, retry_max_attempts=3,
                            retry_base_delay_s=0.01, retry_max_delay_s=0.05, rate_limit_backoff_s=0.01,
                            clock=clock or SYSTEM_CLOCK)

    _factory.make_exchange = _make_exchange
