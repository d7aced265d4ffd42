"""Input coverage: per signal component, in how many evaluated cycles its inputs were usable
and in how many it voted.

A component whose input never arrives answers NEUTRAL every cycle, so its weight changes
nothing — and nothing else says so. Both replay paths count the same thing: the scalar
:class:`engine.trading.signals.engine.SignalEngine` as it evaluates (:class:`CoverageCounter`),
the fast path from its columns (``ColumnSignals.coverage``); tests/dryrun/test_coverage.py
proves they agree. Counts, not shares, so the two compare exactly.

*Usable* is what ``answer_of`` requires before a component may answer: every input seen,
and none older than the component's ``max_input_age``. *Voted* is the final answer (after
overrides) being LONG or SHORT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: per symbol: [cycles, then per component: usable, long, short, then one per input: usable]
Counts = dict[str, list[int]]


def layout(components) -> list[tuple[str, tuple[str, ...]]]:
    """(component id, its inputs) in the rule set's order: the shape of every count row."""
    from engine.trading.signals import components as component_kinds

    return [(c.id, tuple(component_kinds.kind_module(c.kind).INPUTS)) for c in components]


class CoverageCounter:
    """Counts of the scalar path, one row per symbol (see :data:`Counts`); a symbol is counted
    once per evaluation time, so evaluating an instant twice counts it once."""

    __slots__ = ("counts", "last", "shape")

    def __init__(self, components, symbols: Iterable[str]):
        self.shape = layout(components)
        width = 1 + sum(3 + len(inputs) for _, inputs in self.shape)
        self.counts: Counts = {s: [0] * width for s in symbols}
        self.last: dict[str, float] = {}

    def count(self, symbol: str, now: float, steps, last_seen: Mapping[str, float], answers) -> None:
        """One evaluation of ``symbol`` at ``now``: ``steps`` as SignalEngine holds them,
        ``answers`` the components' final answers in the same order."""
        if self.last.get(symbol) == now:
            return
        self.last[symbol] = now
        row = self.counts[symbol]
        row[0] += 1
        k = 1
        for (_, _, fresh), answer in zip(steps, answers):
            usable_all = True
            for j, (name, limit) in enumerate(fresh):
                seen = last_seen.get(name)
                usable = seen is not None and (limit is None or not now - seen > limit)
                row[k + 3 + j] += usable
                usable_all &= usable
            row[k] += usable_all
            row[k + 1] += answer.direction == "LONG"
            row[k + 2] += answer.direction == "SHORT"
            k += 3 + len(fresh)


def coverage_of(shape: list[tuple[str, tuple[str, ...]]], counts: Counts, symbols: Iterable[str]) -> dict[str, Any]:
    """The JSON form over ``symbols`` (those the replay saw; a rule-set symbol absent from the
    snapshots would only dilute the shares): totals and per symbol, per component."""
    symbols = [s for s in symbols if s in counts]
    cycles = sum(counts[s][0] for s in symbols)
    components: dict[str, Any] = {}
    k = 1
    for component, inputs in shape:
        width = 3 + len(inputs)

        def entry(rows: list[list[int]], base: int = k, names: tuple[str, ...] = inputs) -> dict[str, Any]:
            total = sum(r[0] for r in rows)
            usable, long, short = (sum(r[base + i] for r in rows) for i in range(3))
            return {
                "cycles": total,
                "inputs_present": usable,
                "voted_long": long,
                "voted_short": short,
                "inputs_present_pct": _pct(usable, total),
                "voted_pct": _pct(long + short, total),
                "inputs": {name: sum(r[base + 3 + j] for r in rows) for j, name in enumerate(names)},
            }

        components[component] = entry([counts[s] for s in symbols]) | {
            "by_symbol": {s: entry([counts[s]]) for s in symbols}
        }
        k += width
    return {"cycles": cycles, "symbols": symbols, "components": components}


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def coverage_warnings(coverage: Mapping[str, Any] | None) -> list[str]:
    """One warning per component that never voted in the cycles counted, naming why: an
    input never usable (its weight cannot matter), or thresholds never reached."""
    if not coverage or not coverage.get("cycles"):
        return []
    out = []
    for component, c in coverage["components"].items():
        if c["voted_long"] or c["voted_short"]:
            continue
        never = [name for name, n in c["inputs"].items() if n == 0]
        if len(never) == 1:
            why = f"its input {never[0]} is missing or stale in every cycle — changing its weight changes nothing"
        elif never:
            why = f"its inputs {', '.join(never)} are missing or stale in every cycle — changing its weight changes nothing"
        else:
            share = (
                "in every cycle"
                if c["inputs_present"] == c["cycles"]
                else f"in {c['inputs_present_pct']:.1f} % of cycles"
            )
            why = (
                f"its inputs were present {share} but it stayed below its thresholds"
                " — changing its weight changes nothing, its thresholds might"
            )
        out.append(f"{component} never voted: {why}")
    return out


def coverage_lines(coverage: Mapping[str, Any] | None, of: str | None = None) -> list[str]:
    """The terminal table: per component, inputs present and votes as shares of the cycles
    (``of``: the rule set's version, named when two are compared)."""
    if not coverage or not coverage.get("cycles"):
        return []
    rows = [("component", "inputs present", "voted", "LONG / SHORT")]
    for component, c in coverage["components"].items():
        rows.append(
            (
                component,
                f"{c['inputs_present_pct']:.1f} %",
                f"{c['voted_pct']:.1f} %",
                f"{c['voted_long']:,} / {c['voted_short']:,}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    whose = f" of {of}" if of else ""
    head = f"signal coverage{whose} over {coverage['cycles']:,} symbol-cycles ({', '.join(coverage['symbols'])}):"
    body = [
        "  " + "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r))
        for r in rows
    ]
    return [head, *body]
