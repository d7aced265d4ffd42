"""The `rulebot` command line (``rulebot = "engine.cli:run"``, ``python -m engine.cli``).

app.py is the root group and the entry point; one module per command group (validate,
explain, dryrun, paper, snapshots); options.py what they share; render*.py the words;
compose.py the composition root, the only place in ``engine`` that imports ``adapters``;
logs.py where log records go.
"""

from engine.cli.app import main, run

__all__ = ["main", "run"]
