"""Replay of recorded market data: building snapshots from raw history, the dry-run, and every
column ("fast path") form, each proven equal to the scalar trading logic."""
