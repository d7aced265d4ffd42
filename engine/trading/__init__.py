"""The trading logic: features, signals, gates, exits, entry, sizing, positions and the runner,
the one place where trading state changes. Pure functions of the plan, the inputs and the clock."""
