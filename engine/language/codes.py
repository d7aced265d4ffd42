"""Every diagnostic code rulebot can emit, gathered from the modules that emit them.

Codes are stable: a code never changes meaning. docs/reference/error-codes.md is
generated from :data:`ALL_CODES`, and a test checks that every code used is listed.
"""

from __future__ import annotations

from types import MappingProxyType


def _gather() -> MappingProxyType:
    from engine import ports
    from engine.bot import control
    from engine.common import errors
    from engine.language import compiler, crosscheck, expr, loader, schema, yamlstrict
    from engine.language.kinds import KINDS, base
    from engine.learners import promotion
    from engine.market import snapshot
    from engine.sweeps import spec as sweep
    from engine.versions import errors as versions
    from engine.versions import writeback

    merged: dict[str, str] = {}
    sources = [
        errors.CODES,
        yamlstrict.CODES,
        schema.CODES,
        base.CODES,
        *(m.CODES for m in KINDS.values()),
        crosscheck.CODES,
        expr.CODES,
        loader.CODES,
        compiler.CODES,
        snapshot.CODES,
        ports.STATE_CODES,
        ports.VENUE_CODES,
        ports.SNAPSHOT_URL_CODES,
        control.CODES,
        versions.CODES,
        promotion.CODES,
        writeback.CODES,
        sweep.CODES,
    ]
    for table in sources:
        for code, text in table.items():
            if merged.get(code, text) != text:
                raise ValueError(f"{code} described twice differently: {merged[code]!r} vs {text!r}")
            merged[code] = text
    return MappingProxyType(dict(sorted(merged.items())))


ALL_CODES = _gather()
