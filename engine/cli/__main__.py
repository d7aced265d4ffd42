"""``python -m engine.cli``: the same as the ``rulebot`` command."""

from engine.cli.app import run

run()
