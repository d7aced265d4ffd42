"""CoinGlass API v4 market intelligence (reference/exchanges.md §3; docs/venues/coinglass.md):
config, auth (the CG-API-KEY header), http (spacing, back-off, retries), wire (the answers'
shapes), cache (answers on disk) and client (the IntelPort)."""

from adapters.intel.coinglass.client import CoinGlassClient, build

__all__ = ["CoinGlassClient", "build"]
