"""The exchange layer: interface and error taxonomy (base), dummy exchange, ccxt adapter, Kraken simulator."""
