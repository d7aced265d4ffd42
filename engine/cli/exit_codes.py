"""The exit codes of every `rulebot` command (documented for users in docs/ci.md and docs/dry-run.md).

A module of its own so each command module can read them without importing the root group
that imports the commands (engine/cli/app.py, which documents them)."""

from __future__ import annotations

EXIT_OK = 0  # success
EXIT_INVALID = 1  # the rules or the input are invalid (said on stderr)
EXIT_USAGE = 2  # usage error (click's)
EXIT_INTERNAL = 3  # a bug in rulebot; the message says where to report it
EXIT_OUTPUT = 5  # a result was printed but an output file could not be written (dry-run)
EXIT_LOCKED = 6  # another rulebot process holds the state database (paper): RB805
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C
