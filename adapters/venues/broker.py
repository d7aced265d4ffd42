"""The live broker: a venue client (``ExchangePort``) made into what the trading runner needs
of its broker (engine/trading/runner.py): ``observe`` reports the fills and funding payments
since the previous cycle, orders go out and their answers come back as ``OrderState``.

What a venue adds to the paper broker's contract, and how it is handled here:

* **fills arrive by polling**: ``fills_since`` and ``funding_since`` from a cursor (venue
  time, with an overlap), deduplicated by id. The cursor and the ids seen are the broker's
  state, committed with each step (blob "broker"), so a restart never applies a fill twice;
* **an answer can be lost** (``OrderOutcomeUnknown``): the order is looked up by its client
  order id at once and, failing that, before anything else at the next cycle; it is sent
  again only when the venue says it does not have it — never twice;
* **a venue can be busy** (``VenueRetryable``, ``VenueAnswerMalformed``): the order waits and
  is tried again next cycle (looked up first, as above); reads keep their last answer;
* **a venue can say no** (``VenueRejected``): the order is recorded rejected with the reason;
* **a fatal error** (``VenueFatal``: keys, permissions, account): the kill switch engages —
  ``halted`` says why, the runner's trading state is HALTED (engine/bot/states.py), and
  nothing more is sent to the venue;
* **protective stops** (``protect``): every open position rests a reduce-only stop order at
  the venue when the rules place the stop at the exchange (engine/trading/protection.py); the
  broker keeps them apart from the runner's orders, replaces one that went missing, resizes
  one after a partial exit, cancels one whose position closed, and reports the fill of one
  that triggered as the stop tier's exit.

Sizes stay in base units on this side: the venue client converts to contracts. No method
the runner calls raises a venue error: each is logged, and the cycle goes on.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from engine.ports import (
    CANCELLED,
    OPEN,
    REJECTED,
    Balance,
    ExchangePort,
    Fill,
    FundingPayment,
    OrderOutcomeUnknown,
    OrderRequest,
    OrderState,
    Ticker,
    VenueError,
    VenueFatal,
    VenuePosition,
    VenueRejected,
)
from engine.trading.protection import needed_stop

logger = logging.getLogger(__name__)

STATE_VERSION = 1
#: Fills are asked for from this long before the cursor: a fill the venue books late (its
#: time before the newest one seen) is still found; ids seen within it are remembered.
OVERLAP_S = 600.0

Event = Fill | FundingPayment
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Stop:
    """A protective stop the broker rests at the venue for one position."""

    client_order_id: str
    position_id: str
    tier: str
    quantity: float
    stop_price: float


class VenueBroker:
    """A venue as the runner's broker; see the module docstring."""

    def __init__(
        self,
        client: ExchangePort,
        *,
        venue: str,
        ticks: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.time,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        self.client, self.venue, self.ticks, self.clock = client, venue, dict(ticks or {}), clock
        self.halted = ""  # why the kill switch engaged (a fatal venue error); "" while trading
        self._cursor = clock()  # fills before the first start are the reconciliation's, not ours
        self._seen_fills: dict[str, float] = {}
        self._seen_funding: dict[str, float] = {}
        self._waiting: dict[str, OrderRequest] = {}  # not known to have reached the venue: looked up, then re-sent
        self._orders: dict[str, OrderState] = {}  # the last state of each order this broker sent or looked up
        self._venue_open: list[OrderState] = []  # the venue's last answer of open orders
        self._balance: Balance | None = None
        self._stops: dict[str, _Stop] = {}  # position id → its resting stop
        self._stop_seq = 0
        self._failing = False  # the last venue call failed as retryable (connection, 5xx, 429)
        self._reconnected = False
        self._unrecorded: list[OrderState] = []  # stop orders placed before the first cycle
        self.last_cash: float | None = None  # the cash the state recorded when the run stopped
        if state is not None:
            self._restore(state)

    # -------------------------------------------------------------- calls to the venue

    def _call(self, what: str, call: Callable[[], T]) -> T | None:
        """One venue call: its answer, or None after logging why (a fatal error halts)."""
        if self.halted:
            return None
        try:
            answer = call()
        except VenueFatal as error:
            self._halt(error)
            return None
        except VenueError as error:
            if error.retryable:
                self._failing = True
            logger.warning("%s %s failed (%s): %s", self.venue, what, error.code, error)
            return None
        if self._failing:
            self._failing, self._reconnected = False, True
            logger.warning("%s answers again (%s): reconciliation follows", self.venue, what)
        return answer

    def _halt(self, error: VenueError) -> None:
        self.halted = f"fatal error from {self.venue} ({error.code}): {error}"
        logger.error("kill switch engaged: %s; nothing more is sent to the venue", self.halted)

    def take_reconnected(self) -> bool:
        """Whether the venue answered again after failing since the last ask (then reconcile)."""
        reconnected, self._reconnected = self._reconnected, False
        return reconnected

    # -------------------------------------------------------------- the runner's broker

    def observe(self, snapshot: Any = None) -> list[Event]:
        """What happened at the venue since the last cycle: new fills and funding payments,
        oldest first. Orders whose answer was lost are settled first; the venue's open orders
        and balance are refreshed for the cycle's decisions."""
        if self.halted:
            return []
        self._settle_waiting()
        events: list[Event] = [*self._new_fills(), *self._new_funding()]
        self.refresh()
        events.sort(key=lambda e: (e.ts, getattr(e, "fill_id", "") or getattr(e, "payment_id", "")))
        return events

    def refresh(self) -> None:
        """The venue's open orders and balance, kept for the cycle (a failed read keeps the last)."""
        opened = self._call("open orders", self.client.open_orders)
        if opened is not None:
            self._venue_open = list(opened)
            for order in opened:
                self._orders[order.client_order_id] = order
        balance = self._call("balance", self.client.balance)
        if balance is not None:
            self._balance = balance

    def _new_fills(self) -> list[Fill]:
        since = self._cursor - OVERLAP_S
        fills = self._call("fills", lambda: self.client.fills_since(since))
        fresh = []
        for fill in fills or ():
            if fill.fill_id in self._seen_fills:
                continue
            if not (_positive(fill.quantity) and _positive(fill.price) and math.isfinite(fill.fee)):
                logger.error("%s fill %s refused: quantity %r, price %r, fee %r", self.venue, fill.fill_id,
                             fill.quantity, fill.price, fill.fee)  # fmt: skip
                continue
            self._seen_fills[fill.fill_id] = fill.ts
            fresh.append(fill)
        self._cursor = max([self._cursor, *(f.ts for f in fresh)])
        self._seen_fills = {k: ts for k, ts in self._seen_fills.items() if ts >= self._cursor - OVERLAP_S}
        return fresh

    def _new_funding(self) -> list[FundingPayment]:
        since = self._cursor - OVERLAP_S
        payments = self._call("funding", lambda: self.client.funding_since(since))
        fresh = []
        for payment in payments or ():
            if payment.payment_id in self._seen_funding or not math.isfinite(payment.amount):
                continue
            self._seen_funding[payment.payment_id] = payment.ts
            fresh.append(payment)
        self._seen_funding = {k: ts for k, ts in self._seen_funding.items() if ts >= self._cursor - OVERLAP_S}
        return fresh

    def unapplied_fills(self) -> list[Fill]:
        """The venue's fills since the cursor not applied yet (read, not taken): what the first
        cycle will apply, for the reconciliation before it."""
        fills = self._call("fills", lambda: self.client.fills_since(self._cursor - OVERLAP_S)) or ()
        return [f for f in fills if f.fill_id not in self._seen_fills]

    # -------------------------------------------------------------- orders

    def place_order(self, request: OrderRequest) -> OrderState:
        """The order's state at the venue; never raises (see the module docstring)."""
        if self.halted:
            return self._rejected(request, f"kill switch: {self.halted}; nothing more is sent")
        return self._send(request)

    def _send(self, request: OrderRequest) -> OrderState:
        cid = request.client_order_id
        try:
            state = self.client.place_order(request)
        except OrderOutcomeUnknown as error:
            logger.warning("order %s: the venue's answer was lost (%s); looking it up by client order id", cid, error)
            found = self._call("order lookup", lambda: self.client.order(cid))
            if found is not None:
                return self._known(found)
            return self._wait(request, f"outcome unknown ({error}); looked up by client order id next cycle")
        except VenueRejected as error:
            self._waiting.pop(cid, None)
            return self._known(self._rejected(request, str(error)))
        except VenueFatal as error:
            self._halt(error)
            return self._rejected(request, f"kill switch: {self.halted}; nothing more is sent")
        except VenueError as error:  # retryable, malformed: the next cycle looks it up, then sends it
            self._failing = self._failing or error.retryable
            logger.warning("order %s not placed (%s): %s; tried again next cycle", cid, error.code, error)
            return self._wait(request, f"not placed yet ({error.code}): tried again next cycle")
        self._waiting.pop(cid, None)
        return self._known(state)

    def _wait(self, request: OrderRequest, reason: str) -> OrderState:
        self._waiting[request.client_order_id] = request
        state = self._unsent(request, reason)
        self._orders[request.client_order_id] = state
        return state

    def _unsent(self, request: OrderRequest, reason: str, status: str = OPEN) -> OrderState:
        """An order as the runner records it before the venue has it."""
        return OrderState(
            request.client_order_id,
            "",
            request.symbol,
            request.side,
            request.quantity,
            0.0,
            request.order_type,
            request.limit_price,
            status,
            request.reduce_only,
            reason,
            self.clock(),
        )

    def _settle_waiting(self) -> None:
        """Each order not known to have reached the venue: looked up by its client order id,
        and sent again only when the venue answers that it does not have it."""
        for cid, request in list(self._waiting.items()):
            if self.halted:
                return
            try:
                found = self.client.order(cid)
            except VenueFatal as error:
                self._halt(error)
                return
            except VenueError as error:
                logger.warning("order %s: still cannot look it up (%s): %s", cid, error.code, error)
                continue
            if found is not None:
                self._waiting.pop(cid)
                self._known(found)
                logger.warning("order %s found at the venue (%s): not sent again", cid, found.status)
            else:
                logger.warning("order %s: the venue does not have it; sending it now", cid)
                self._send(request)

    def _known(self, state: OrderState) -> OrderState:
        self._orders[state.client_order_id] = state
        if state.status == REJECTED:
            logger.warning("order %s rejected by %s: %s", state.client_order_id, self.venue, state.reason)
        return state

    def _rejected(self, request: OrderRequest, reason: str) -> OrderState:
        return self._unsent(request, reason, REJECTED)

    def cancel_order(self, client_order_id: str) -> OrderState:
        """The order's state after the cancel; a failed cancel leaves it as it was (said in the log)."""
        if client_order_id in self._waiting:  # never reached the venue as far as we know: not sent again
            request = self._waiting.pop(client_order_id)
            return self._known(self._unsent(request, "cancelled before it was sent", CANCELLED))
        state = self._call("cancel", lambda: self.client.cancel_order(client_order_id))
        if state is None:
            known = self._orders.get(client_order_id)
            return known or OrderState(
                client_order_id, "", "", "", 0.0, 0.0, "", None, REJECTED, False, "cancel failed", self.clock()
            )
        self._venue_open = [o for o in self._venue_open if o.client_order_id != client_order_id]
        return self._known(state)

    def open_orders(self) -> Sequence[OrderState]:
        """The runner's open orders (protective stops are the broker's own, not listed): at the
        venue at the last refresh, plus those waiting to be sent."""
        own = {s.client_order_id for s in self._stops.values()}
        listed = [o for o in self._venue_open if o.client_order_id not in own and o.status == OPEN]
        seen = {o.client_order_id for o in listed}
        return listed + [self._orders[cid] for cid in self._waiting if cid not in seen and cid in self._orders]

    def order(self, client_order_id: str) -> OrderState | None:
        """The order's last known state; asked of the venue when this broker never saw it."""
        known = self._orders.get(client_order_id)
        if known is not None and (known.status != OPEN or client_order_id in self._waiting):
            return known
        asked = self._call("order", lambda: self.client.order(client_order_id))
        if asked is not None:
            self._orders[client_order_id] = asked
            return asked
        return known

    def positions(self) -> Sequence[VenuePosition]:
        """The venue's positions now (the reconciliation task's view); empty after a failed read is
        not a fact, so a failed read raises the venue's error to the task (recorded as failed)."""
        if self.halted:
            raise VenueFatal(self.halted, venue=self.venue, endpoint="positions")
        return list(self.client.positions())

    def balance(self) -> Balance:
        """The balance of the last refresh (read now if none yet); zero until the venue answered."""
        if self._balance is None:
            self.refresh()
        return self._balance or Balance(0.0, 0.0, 0.0)

    def ticker(self, symbol: str) -> Ticker:
        return self.client.ticker(symbol)

    def fills_since(self, ts: float) -> Sequence[Fill]:
        return self._call("fills", lambda: self.client.fills_since(ts)) or []

    def funding_since(self, ts: float) -> Sequence[FundingPayment]:
        return self._call("funding", lambda: self.client.funding_since(ts)) or []

    # -------------------------------------------------------------- protective stops

    def protective_exit(self, client_order_id: str) -> tuple[str, str] | None:
        """(position id, stop tier) when ``client_order_id`` is one of the protective stops."""
        for stop in self._stops.values():
            if stop.client_order_id == client_order_id:
                return stop.position_id, stop.tier
        return None

    @property
    def protective_orders(self) -> frozenset[str]:
        return frozenset(s.client_order_id for s in self._stops.values())

    def protect(self, plan: Any, positions: Sequence[Any]) -> list[OrderState]:
        """Every open position with its resting stop at the venue (the rules' stop tier with
        ``placement: exchange``): placed where missing, replaced when the position's size
        changed or the venue no longer has it open, cancelled when the position closed.
        The orders' states, for the state database."""
        changed, self._unrecorded = self._unrecorded, []
        if self.halted:
            return changed
        wanted = {}
        for position in positions:
            need = needed_stop(plan, position, self.ticks.get(position.symbol))
            if need is not None:
                wanted[position.id] = need
        venue_open = {o.client_order_id for o in self._venue_open if o.status == OPEN}
        for position_id, stop in list(self._stops.items()):
            need = wanted.get(position_id)
            fits = need is not None and math.isclose(need.request.quantity, stop.quantity, rel_tol=1e-9)
            if fits and stop.client_order_id in venue_open:
                continue
            if stop.client_order_id in venue_open:
                cancelled = self._call("cancel stop", functools.partial(self.client.cancel_order, stop.client_order_id))
                if cancelled is None:
                    continue  # tried again next cycle; the old stop still protects
                changed.append(cancelled)
            del self._stops[position_id]
        for position_id, need in sorted(wanted.items()):
            if position_id not in self._stops:
                placed = self._place_stop(need)
                if placed is not None:
                    changed.append(placed)
        return changed

    def protect_at_start(self, plan: Any, positions: Sequence[Any]) -> int:
        """``protect`` before the first cycle (a position found without its stop gets one at
        once); the orders are recorded with the first step. How many stops were placed."""
        states = self.protect(plan, positions)
        self._unrecorded = states
        return sum(1 for s in states if s.status == OPEN)

    def _place_stop(self, need: Any) -> OrderState | None:
        self._stop_seq += 1
        request = need.request
        cid = f"{need.position_id}-stop{self._stop_seq}"
        request = OrderRequest(
            cid,
            request.symbol,
            request.side,
            request.quantity,
            request.order_type,
            None,
            True,
            request.leverage,
            request.stop_price,
        )
        state = self._call("place stop", lambda: self.client.place_order(request))
        if state is None or state.status == REJECTED:
            reason = state.reason if state is not None else "the venue did not answer"
            logger.error("protective stop for %s not placed (%s): the bot-side stop stays", need.position_id, reason)
            return state
        price = float(request.stop_price or 0.0)
        self._stops[need.position_id] = _Stop(cid, need.position_id, need.tier, request.quantity, price)
        self._venue_open.append(state)
        logger.info(
            "protective stop %s placed: %s %g %s at %g",
            cid,
            request.side,
            request.quantity,
            request.symbol,
            request.stop_price,
        )
        return self._known(state)

    # -------------------------------------------------------------- state

    @property
    def cash(self) -> float | None:
        return self._balance.cash if self._balance is not None else None

    def state(self) -> dict[str, Any]:
        """What a restart needs (JSON-ready; committed with each step): the fill cursor, the ids
        seen within the overlap, the orders waiting, the protective stops and the kill switch."""
        return {
            "version": STATE_VERSION,
            "venue": self.venue,
            "cursor": self._cursor,
            "fills": dict(sorted(self._seen_fills.items())),
            "funding": dict(sorted(self._seen_funding.items())),
            "waiting": {cid: asdict(r) for cid, r in sorted(self._waiting.items())},
            "stops": {pid: asdict(s) for pid, s in sorted(self._stops.items())},
            "stop_seq": self._stop_seq,
            "cash": self.cash,
            "halted": self.halted,
        }

    def _restore(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != STATE_VERSION or state.get("venue") != self.venue:
            raise ValueError(f"broker state of version {state.get('version')!r} for venue {state.get('venue')!r}")
        self._cursor = float(state["cursor"])
        self._seen_fills = {str(k): float(v) for k, v in state["fills"].items()}
        self._seen_funding = {str(k): float(v) for k, v in state["funding"].items()}
        self._waiting = {str(k): OrderRequest(**v) for k, v in state["waiting"].items()}
        for request in list(self._waiting.values()):
            self._wait(request, "outcome unknown before the restart; looked up by client order id")
        self._stops = {str(k): _Stop(**v) for k, v in state["stops"].items()}
        self._stop_seq = int(state["stop_seq"])
        cash = state.get("cash")
        self.last_cash = float(cash) if cash is not None else None
        # a kill switch recorded by the last run is not restored: restarting (with keys that
        # work) is how the operator clears it, after the start-up reconciliation


def _positive(value: float) -> bool:
    return isinstance(value, (int, float)) and 0 < value < math.inf
