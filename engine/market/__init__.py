"""Market data as the engine sees it: the frozen snapshot of one cycle and checks on its values."""
