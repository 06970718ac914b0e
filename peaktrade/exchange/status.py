"""Exchange status: server time, clock skew and latency, measured with the injectable clock."""

from __future__ import annotations

from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock


def exchange_status(config: Any, *, mode: str, clock: Clock = SYSTEM_CLOCK, client: Any = None) -> dict[str, Any]:
    """Ask the exchange for its time; raises the taxonomy's errors when it cannot be reached."""
    from peaktrade.exchange.factory import make_exchange

    client = client or make_exchange(config, mode=mode, clock=clock)
    t0 = clock.monotonic()
    local_before = clock.now().timestamp() * 1000
    server_ms = client.server_time()
    latency_s = clock.monotonic() - t0
    local_ms = local_before + latency_s * 500  # the server answered about half-way through the round trip
    return {"exchange": getattr(client, "name", config.exchange_type), "mode": mode, "server_time_ms": server_ms,
            "clock_skew_ms": int(round(server_ms - local_ms)), "latency_ms": int(round(latency_s * 1000))}
