"""What `rulebot run --live` does before its first trade (engine/cli/run.py wires it):

1. the execution venue: the ``EXCHANGE`` environment variable when set (an exchange id of
   rules/venues.yaml, or the start of one: ``kraken`` is ``kraken_futures``), else the rules'
   ``execution_venue``;
2. the keys, from the environment only, under the variable names venues.yaml gives; a
   missing one refuses the start naming the variable (never a value); every value read is
   registered with the redaction (engine/common/redaction.py) at once, so no log line,
   error or report can show it;
3. the venue client and the live broker (engine/cli/compose.py ``live_broker``): the
   venue's instruments checked against the rules (InstrumentMismatch refuses);
4. reconciliation of positions, open orders and balance between the state database and the
   venue (engine/trading/reconcile.py): any difference refuses the start (LiveRefused, exit 1,
   each difference said);
5. a protective stop for every open position that has none (the rules' ``placement:
   exchange``), before the first cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine.common.redaction import register_secret
from engine.ports import LiveRefused, VenueError
from engine.trading.reconcile import Reconciliation, reconcile

logger = logging.getLogger(__name__)

EXCHANGE_ENV = "EXCHANGE"  # seed: the EXCHANGE environment variable picks the venue
CREDENTIAL_FIELDS = ("api_key_env", "api_secret_env", "passphrase_env")


def execution_venue(plan: Any, environ: Mapping[str, str]) -> str:
    """The exchange id live mode trades on; LiveRefused for an EXCHANGE naming none."""
    ids = [e.id for e in plan.venues.exchanges]
    asked = environ.get(EXCHANGE_ENV, "").strip()
    if not asked:
        return str(plan.venues.execution_venue)
    matching = [i for i in ids if i == asked] or [i for i in ids if i.startswith(asked.lower())]
    if len(matching) != 1:
        raise LiveRefused(
            f"{EXCHANGE_ENV}={asked!r} names {'several' if matching else 'none'} of the exchanges of "
            f"rules/venues.yaml ({', '.join(ids)})",
            venue=asked,
            endpoint="start",
        )
    return matching[0]


def credential_names(exchange: Any) -> dict[str, str]:
    """The variable names venues.yaml gives for ``exchange``'s keys (field → name)."""
    names = dict(exchange.params.get("credentials") or {})
    return {field: str(names[field]) for field in CREDENTIAL_FIELDS if names.get(field)}


def read_credentials(exchange: Any, environ: Mapping[str, str]) -> dict[str, str]:
    """The keys (field → value) from the environment, each registered for redaction as it is
    read; LiveRefused naming every variable that is missing or empty (names only)."""
    names = credential_names(exchange)
    if "api_key_env" not in names or "api_secret_env" not in names:
        raise LiveRefused(
            f"rules/venues.yaml gives no api_key_env/api_secret_env for {exchange.id}: live mode needs both",
            venue=exchange.id,
            endpoint="start",
        )
    values, missing = {}, []
    for field, name in names.items():
        value = environ.get(name, "")
        if value.strip():
            register_secret(value)
            values[field] = value
        else:
            missing.append(name)
    if missing:
        raise LiveRefused(
            f"live mode on {exchange.id} needs its keys in the environment: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set (keys are read from the environment only)",
            venue=exchange.id,
            endpoint="start",
        )
    return values


def reconcile_at_start(runner: Any, broker: Any, tolerance_pct: float) -> Reconciliation:
    """The state database (the runner's positions and pending orders) against the venue; the
    start is refused with every difference said, or the notes are logged."""
    broker.refresh()
    if broker.cash is None:  # one more try for a balance the venue did not answer (a busy moment)
        broker.refresh()
    try:
        venue_positions = broker.positions()
        venue_orders = broker.client.open_orders()
    except VenueError as error:  # whatever the venue did, the start is refused, said plainly
        raise LiveRefused(
            f"live start refused: {broker.venue} did not answer the reconciliation ({type(error).__name__}: {error})",
            venue=broker.venue,
            endpoint="reconciliation",
        ) from None
    found = reconcile(
        broker.venue,
        positions=runner.positions.values(),
        pending=set(runner.pending),
        own_orders=broker.protective_orders,
        unapplied_fills=broker.unapplied_fills(),
        venue_positions=venue_positions,
        venue_orders=venue_orders,
        lookup=broker.order,
        balance=broker.balance() if broker.cash is not None else None,
        known_cash=broker.last_cash,
        tolerance_pct=tolerance_pct,
    )
    if broker.halted:
        raise LiveRefused(f"live start refused: {broker.halted}", venue=broker.venue, endpoint="reconciliation")
    if not found.in_step:
        raise found.refusal()
    for note in found.notes:
        logger.warning("%s", note)
    logger.warning(
        "reconciled with %s: %d position(s), %d open order(s) in step",
        broker.venue,
        len(venue_positions),
        len(venue_orders),
    )
    return found


def reconciliation_tolerance(plan: Any) -> float:
    """The hourly reconciliation task's quantity tolerance (%), which the start uses too."""
    from engine.bot.tasks.portfolio_reconciliation import Params

    params = plan.schedules.task_params.get("portfolio_reconciliation") or Params()
    return float(params.quantity_tolerance_pct)
