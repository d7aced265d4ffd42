"""Building snapshot files from market history, and describing snapshot files.

One responsibility per module:

- ``spec``: the build spec (YAML, docs/snapshot-build.md), checked against
  schemas/snapshot-build.schema.json plus the checks a schema cannot express;
- ``sources``: reading the source files it names (freqtrade ``.feather``, Parquet, CSV) into
  cleaned columns, with a report of what was read and what was wrong;
- ``build``: the orchestration: sources → :mod:`engine.replay.build` → snapshots streamed
  into a columnar or JSON-lines file;
- ``info``: what a snapshot file of any format holds, as data.

They return data and problems and never raise for bad input; the `rulebot snapshots`
commands (engine/cli/snapshots.py) say it in words and choose the exit code.
"""
