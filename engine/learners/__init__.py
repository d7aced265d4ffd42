"""Learners: pure functions from resolved signals and closed trades to bounded proposals
(engine/learners/base.py), one module per learner kind, and the orchestrator that decides
which proposals are applied."""
