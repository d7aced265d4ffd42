"""The names rule expressions may read, per place they are written.

Each context is a typed vocabulary (name, type, unit, description). ``rulebot schema``
exports them beside the JSON Schemas and docs/reference/vocabulary.md is generated from
them, so what a rule may say is written down once, here.
"""

from __future__ import annotations

from engine.language.expr import NameSpec, Vocabulary


def _f(name: str, unit: str, description: str) -> NameSpec:
    return NameSpec(name, "float", unit, description)


def _b(name: str, description: str) -> NameSpec:
    return NameSpec(name, "bool", "", description)


MARKET = Vocabulary.of(
    _f("price", "USD", "Last traded price of the symbol."),
    _f("price_change_pct", "%", "Price change over the last hour."),
    _f("spread_bps", "bps", "Best ask minus best bid, relative to mid."),
    _f("funding_rate", "rate/interval", "Latest funding rate as a fraction per funding interval."),
    _f("funding_deviation", "rate/interval", "Funding rate minus its rolling mean."),
    _f("funding_z", "sigma", "Funding deviation in standard deviations of the window."),
    _f("open_interest_usd", "USD", "Open interest."),
    _f("oi_change_pct", "%", "Open-interest change over the oi_velocity window."),
    _f("liq_volume_usd", "USD", "Liquidations (both sides) in the cascade window."),
    _f("liq_long_share", "fraction", "Share of long liquidations in the cascade window (0-1)."),
    _f("liq_acceleration", "ratio", "Liquidations in the newer half of the window ÷ the older half."),
    _f("whale_net_flow_usd", "USD", "Net exchange inflow over the whale window (outflow negative)."),
    _f("fear_greed", "0-100", "Fear & Greed index."),
    _f("vol_skew", "ratio", "Volatility skew (or its declared proxy); positive = fear."),
    _f("hurst", "0-1", "Hurst exponent of recent log prices."),
    _f("ofi", "OFI", "Order-flow imbalance of the book, -1 (all asks) to 1 (all bids)."),
    _f("ofi_momentum", "OFI/min", "Slope of OFI over its window."),
    _f("lead_lag_corr", "correlation", "Best lagged correlation of the leader's returns with this symbol's."),
    _f("leader_move_pct", "%", "The leader's move over the best lag."),
    _f("mtf_long", "fraction", "Share of timeframes trending up (0-1)."),
    _f("mtf_short", "fraction", "Share of timeframes trending down (0-1)."),
    _f("ema_spread_pct", "%", "Fast EMA minus slow EMA, relative to the slow EMA."),
    _f("taker_buy_sell_ratio", "ratio", "Taker buy volume ÷ taker sell volume."),
    _b("is_leader", "True for the rule set's leader symbol (BTCUSDT by default)."),
)

SIGNAL_OUTCOME = Vocabulary.of(
    _f("direction", "sign", "Voted direction: 1 LONG, -1 SHORT, 0 NEUTRAL."),
    _f("confidence", "fraction", "Weighted confidence of the vote (0-1)."),
    _f("aligned_count", "count", "Components agreeing with the voted direction."),
    _f("conviction_rank", "rank", "Signal conviction: 3 HIGH, 2 MEDIUM, 1 LOW, 0 NONE."),
    _b("cascade_active", "A liquidation cascade is above its threshold."),
)

PERFORMANCE = Vocabulary.of(
    _f("recent_trades", "count", "Closed trades of this symbol and direction in the learning lookback."),
    _f("recent_expectancy_pct", "%", "Mean net P&L of those trades."),
    _f("recent_win_rate", "fraction", "Share of those trades that won."),
)

PORTFOLIO = Vocabulary.of(
    _f("portfolio_value_usd", "USD", "Equity: balance plus unrealised P&L."),
    _f("available_margin_usd", "USD", "Margin not tied up in positions or orders."),
    _f("required_margin_usd", "USD", "Margin the proposed order needs."),
    _b("has_position_same_direction", "An open position in this symbol and direction exists."),
    _f("positions_in_symbol", "count", "Open positions in this symbol."),
    _f("open_positions", "count", "Open positions in all symbols."),
    _f("exposure_pct", "%", "Open notional ÷ equity."),
    _f("order_exposure_pct", "%", "Proposed order's notional ÷ equity."),
    _f("price_age_s", "s", "Age of the latest price."),
)

POSITION = Vocabulary.of(
    _f("pnl_pct", "%", "Position P&L in percent, on the basis exits.yaml declares."),
    _f("peak_pnl_pct", "%", "Best P&L since entry."),
    _f("hold_s", "s", "Time since entry."),
    _f("min_hold_s", "s", "exits.yaml min_hold."),
    _f("optimal_hold_s", "s", "Optimal hold for this symbol/direction (learned or default)."),
    _f("alignment", "fraction", "Multi-timeframe alignment with the position's direction now (0-1)."),
    _f("alignment_at_entry", "fraction", "Alignment when the position opened."),
    _f("alignment_delta", "fraction", "alignment − alignment_at_entry."),
    _b("momentum_continuing", "Short-term momentum still points the position's way."),
    _b("momentum_reversed", "Short-term momentum turned against the position."),
    _f("leverage", "x", "Position leverage."),
)

#: Where each vocabulary applies; the keys are used by docs and `rulebot schema`.
CONTEXTS = {
    "signal": MARKET,
    "component": MARKET.with_previous(),  # expression components: prev(name) is their own memory
    "gate": MARKET.merged(SIGNAL_OUTCOME).merged(PERFORMANCE),
    "requirement": MARKET.merged(SIGNAL_OUTCOME).merged(PERFORMANCE).merged(PORTFOLIO),
    "exit": MARKET.merged(POSITION),
}
