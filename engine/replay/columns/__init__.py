"""Column forms of the trading logic for the dry-run fast path: signals, market values,
correlations, gates and entry decisions over many cycles at once. Each is proven equal to the
scalar code it mirrors; what a column form cannot settle is left to the runner."""
