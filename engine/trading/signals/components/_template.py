"""Price momentum (a template, not registered): follow a large price move over a window.

HOW TO ADD A SIGNAL COMPONENT KIND (copy this file; every name below is required):

1. Copy this file to ``engine/trading/signals/components/<your_kind>.py`` and replace
   ``price_momentum`` everywhere by your kind's name (the YAML ``kind:``).
2. Say what it reads (``INPUTS``: snapshot input names, engine.market.snapshot.INPUT_NAMES),
   what it offers to expressions (``EXPORTS``: names in docs/reference/vocabulary.md) and
   the reason codes it answers with (``REASONS``).
3. Write its ``Params`` (windows, shaping; shared by both profiles) and ``Thresholds``
   (per profile, learnable) as frozen dataclasses, their ``schema()`` fragments, and
   ``compile_params`` / ``compile_thresholds`` that read them from the frozen document
   (durations arrive in seconds, learnable values as plain numbers). Params that are exactly
   a time window and ``full_confidence_multiple`` are base.py's ``WindowedParams`` (as here;
   ``CountWindowedParams`` for a window of N readings) with its compiler; any other params get
   their own dataclass and compiler (liquidation_cascade.py is one). A kind with nothing to
   check beyond the schema's ranges uses ``check = no_checks``.
4. Write its state (``new_state``/``update``, no I/O, no clock), ``exports``, ``evaluate``
   (pure: the same state gives the same Answer) and ``explain``.
5. Register the module in ``engine/trading/signals/components/__init__.py`` (one line in
   ``COMPONENTS``), regenerate the schemas (``python -m engine.language.schemagen``) and the
   reference docs (``python -m engine.docgen``), and add tests.

Column form (dry-run fast path): a kind whose INPUTS do not include ``candles_1m`` needs
none — the fast path feeds it at its first input's publication events with these very
functions. A candle-fed kind without a column form makes ``--replay auto`` take the scalar
path; to make it fast, add a module to engine/replay/columns/components/.

This kind: the price change over ``window`` (oldest price in the window to the latest). At
or above ``min_change_pct`` in size: the direction of the move. Confidence: |change| ÷
(threshold × multiple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.trading.features import TimeWindow
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, pct, window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

# the YAML kind: (CHANGE; keep this line as it is, a plain string and no comment)
KIND = "price_momentum"
SUMMARY = "Price momentum: follow a large price move over the window."  # the schema's description (CHANGE)
REASONS = ("warming_up", "below_threshold", "price_rising", "price_falling")  # every reason evaluate gives
INPUTS = ("price",)  # the first one's publication times are when the fast path feeds it
EXPORTS = ("price_momentum_pct",)  # vocabulary names exports() may give (must be in the vocabulary)
SIGNALS_CASCADE = False  # True only if a non-NEUTRAL answer means "a liquidation cascade is active"
NEEDS_LEADER = False  # True if it reads the leader's candles (``leader_candles_1m``)
# The component fields new_state() reads: while they are unchanged a hot reload keeps the live
# state instead of warming a new one (tests/signals check new_state reads nothing else).
STATE_READS = ("params",)


Params = base.WindowedParams  # window (seconds), full_confidence_multiple; your own dataclass if they differ


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_change_pct: float


def schema() -> dict[str, Any]:
    """The kind's schema element: its params and thresholds inside the family's envelope."""
    return component_schema(
        KIND,
        SUMMARY,
        params={"window": window("price change"), "full_confidence_multiple": confidence_multiple()},
        thresholds={"min_change_pct": pct("Minimum price change over the window.")},
        inputs=INPUTS,
    )


compile_params = base.compile_windowed_params  # your own ``def compile_params(raw) -> Params`` if they differ


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_change_pct=raw["min_change_pct"])


# Semantic checks the schema cannot express: this kind has none. Yours, if it has some:
# ``def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None``
# (``Doc`` and ``BuildContext`` from engine.language.kinds.base, under TYPE_CHECKING) reporting
# ``ctx.report(doc, (*path, ...), "RB3xx", message)``; thresholds that must stay ordered:
# ``check_ordered`` in base.py (fear_greed.py and hurst.py use it).
check = base.no_checks


def new_state(component: Component) -> TimeWindow:
    params: Params = component.params
    return TimeWindow(params.window)


def update(state: TimeWindow, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    price = symbol.get("price")
    if price is not None:
        state.push(symbol.times["price"], price)


def exports(state: TimeWindow) -> dict[str, float]:
    change = _change_pct(state)
    return {} if change is None else {"price_momentum_pct": change}


def _change_pct(state: TimeWindow) -> float | None:
    first, last = state.first, state.last
    if first is None or last is None or len(state) < 2 or first[1] <= 0:
        return None
    return (last[1] / first[1] - 1) * 100


def evaluate(component: Component, state: TimeWindow) -> Answer:
    params: Params = component.params
    change = _change_pct(state)
    if change is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_change_pct
    seen = {"change_pct": change, "threshold_pct": threshold}
    if abs(change) < threshold or change == 0:
        return neutral("below_threshold", **seen)
    direction = side(change, LONG, SHORT)
    confidence = scaled(abs(change), threshold, params.full_confidence_multiple)
    return directed(direction, confidence, "price_rising" if direction == LONG else "price_falling", **seen)


def explain(answer: Answer) -> str:
    """One line about one of this kind's own answers (the family words warming up,
    missing/stale inputs, errors and overrides)."""
    i = answer.inputs
    moved = f"price moved {fmt(i.get('change_pct'))} % over the window"
    if answer.reasons[0] == "below_threshold":
        return f"{moved}, less than {fmt(i.get('threshold_pct'))} %"
    return f"{moved}: follow it, {answer.direction}"
