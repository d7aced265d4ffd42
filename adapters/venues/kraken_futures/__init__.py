"""Kraken Futures linear perpetuals (PF_): rulebot's ExchangePort and MarketDataPort."""
