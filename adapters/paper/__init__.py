"""The paper broker: simulated fills, fees, slippage, funding and liquidation."""
