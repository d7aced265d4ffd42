"""The rule language: strict YAML, schemas, overlays, expressions, diagnostics, and the compiler
that turns a rule folder into one frozen plan. Nothing here trades or does I/O beyond reading rules."""
