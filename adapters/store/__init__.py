"""Durable storage: the SQLite state store and the JSON-lines log sinks."""
