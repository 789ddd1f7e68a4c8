"""ctrader-admin: a back-office console for brokers on the cTrader platform."""

__version__ = "0.1.0"
APP_NAME = "ctrader-admin"
