"""Snapshot files: JSON lines and columnar (Parquet) recordings, and building them from raw history."""
