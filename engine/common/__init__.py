"""Small helpers every layer uses: times, decimals, errors.

Nothing here imports the rest of rulebot, so any module (the rule language, trading,
replay, reports, adapters) may import it without a cycle.
"""
