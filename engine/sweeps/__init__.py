"""Sweeps: many variants of one rule set replayed over the same snapshots, and ranked.

``spec`` reads what to vary (a YAML spec with its JSON Schema), ``variants`` expands it into
variants (a grid, or a seeded random draw), each a set of values at parameter paths — the
paths profile overrides and learned overlays use — and ``results`` ranks what the replays
gave and writes it. Running a variant (a rule set made of the base files plus the variant's
values as overrides, validated like any rule set, then a dry-run) is adapters/executors/
work.py's, spread over processes by an executor (adapters/executors/: the local process
pool, or Dask); `rulebot sweep` (engine/cli/sweep.py) composes them. Pure: no I/O here
but reading the spec.
"""
