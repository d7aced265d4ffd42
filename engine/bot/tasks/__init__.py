"""The scheduled tasks: one module per task name that schedules.yaml may use, in an explicit
registry (see base.py for the contract)."""
