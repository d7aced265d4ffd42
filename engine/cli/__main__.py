"""``python -m engine.cli``: the same as the ``rulebot`` command."""

from engine.cli import run

run()
