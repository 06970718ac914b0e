"""PeakTrade: executable runbooks, enforced risk policies and the trading runtime they operate."""

__version__ = "0.1.0"
