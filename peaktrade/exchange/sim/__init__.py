"""The parts of the loopback Kraken simulator: pair table, behaviour profiles and rate counters, the order
engine. ``peaktrade.exchange.simulator.KrakenSimulator`` (the HTTP server) is the entry point."""
