"""Fill models: how an order's fill price, fee and funding are computed, beside the paper
broker's own (adapters/paper/broker.py). ``freqtrade`` holds freqtrade 2026.9 backtesting's
price arithmetic (docs/migrating-from-freqtrade.md), pure and proven against its own trades."""
