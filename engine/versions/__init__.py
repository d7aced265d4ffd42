"""Rule-set versions: the version store's model, learned overlays written back, diff and
rollback."""
