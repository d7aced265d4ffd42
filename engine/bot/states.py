"""The trading state, as a pure function of what holds it: ACTIVE, REDUCING (exits only, no
entries) or HALTED (no entries and no discretionary exits; the protective exits still run).

Two kinds of claim decide it:

- **held** claims, set at a known time and kept until lifted: an operator's override
  (``rulebot halt|reduce``), or a state a task set (reconciliation, watchdog, recovery), both
  kept in the state's ``overrides`` table (``Portfolio.held``);
- **conditions** measured at every decision: the kill switch (the rules' ``active`` switch, the
  drawdown, win-rate and reject-rate thresholds, and in live mode a fatal venue error:
  bad keys, permissions, a blocked account), the market-data sanity alarm, the policy's
  ``freeze_entries``.

What each state stops: REDUCING and HALTED refuse entries (the trading_state gate). A HALTED
held by an operator or a task also withholds the discretionary exits (``withholds_exits``): only
the protective tiers, the stops, still close positions. A kill-switch breach is HALTED for
entries, and its exits go on (they reduce the risk the breach measured).

Precedence: HALTED over REDUCING over ACTIVE; among claims of the same state the earliest set
wins — held claims by the time they were set, then the conditions (measured now) in the order
above. The winner's reason and source are the state's; with no claim the state is ACTIVE.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.bot.tasks.base import Override, TradingState

ACTIVE: TradingState = "ACTIVE"
REDUCING: TradingState = "REDUCING"
HALTED: TradingState = "HALTED"
RANK: dict[str, int] = {ACTIVE: 0, REDUCING: 1, HALTED: 2}

OPERATOR = "operator"
#: The holders `rulebot resume` lifts: the operator's own overrides, and the task that hands the
#: decision to a person (recovery_cycle: which book is right, the bot's or the broker's). The
#: other tasks lift the state they set when they find things healthy again; a kill-switch
#: breach lasts while it is measured.
RESUMABLE = (OPERATOR, "recovery_cycle")
KILL_SWITCH, MARKET_DATA, POLICY = "kill_switch", "market_data", "policy"  # the conditions' sources


@dataclass(frozen=True, slots=True)
class Claim:
    """``source`` holds trading at ``state`` for ``reason``; ``since`` is when it was set
    (None: a condition measured now)."""

    state: TradingState
    reason: str
    source: str
    since: float | None = None


def held(overrides: Iterable[Override]) -> tuple[Claim, ...]:
    """The active overrides (operator's and tasks') as claims, earliest set first."""
    return tuple(
        Claim(o.state, o.reason, o.source, o.set_ts) for o in sorted(overrides, key=lambda o: (o.set_ts, o.id))
    )


def conditions(plan: Any, portfolio: Any) -> list[Claim]:
    """The claims of the rules' kill switch, the data-sanity alarm and the policy, in precedence
    order among equals (the reasons are what the trading_state gate shows)."""
    policy = plan.requirements
    kill = policy.kill_switch
    account = portfolio.account
    found = []
    if kill.active:
        found.append(Claim(HALTED, "kill switch set by the operator", KILL_SWITCH))
    venue_halt = getattr(portfolio, "venue_halt", "")
    if venue_halt:  # live: keys, permissions or account failed; the broker sends nothing more
        found.append(Claim(HALTED, venue_halt, KILL_SWITCH))
    drawdown = account.drawdown_pct(portfolio.equity_usd)
    if drawdown > kill.max_drawdown_pct:
        found.append(Claim(HALTED, f"drawdown {drawdown:.2f} % > {kill.max_drawdown_pct:g} %", KILL_SWITCH))
    if account.trades >= kill.min_trades_for_win_rate and account.win_rate < kill.min_win_rate:
        found.append(Claim(HALTED, f"win rate {account.win_rate:.2f} < {kill.min_win_rate:g}", KILL_SWITCH))
    if account.reject_rate > kill.max_reject_rate:
        found.append(Claim(HALTED, f"reject rate {account.reject_rate:.2f} > {kill.max_reject_rate:g}", KILL_SWITCH))
    if portfolio.data_alarm:
        found.append(Claim(REDUCING, portfolio.data_alarm, MARKET_DATA))
    if policy.freeze_entries:
        found.append(Claim(REDUCING, "entries frozen by policy", POLICY))
    return found


def resolve(claims: Sequence[Claim]) -> tuple[TradingState, str, str]:
    """(state, reason, source) of the winning claim; ("ACTIVE", "", "") with none."""
    if not claims:
        return ACTIVE, "", ""
    order = sorted(
        range(len(claims)),
        key=lambda i: (
            -RANK[claims[i].state],
            claims[i].since is None,
            claims[i].since or 0.0,
            i,
        ),
    )
    best = claims[order[0]]
    return best.state, best.reason, best.source


def withholds_exits(claims: Iterable[Claim]) -> bool:
    """Whether discretionary exits wait: an operator or a task holds trading HALTED. Only
    held halts do: a kill-switch breach (a condition) stops entries, while the exits keep
    reducing the risk it measured; the stops run in every state."""
    return any(claim.state == HALTED and claim.since is not None for claim in claims)


def trading_state(plan: Any, portfolio: Any) -> tuple[TradingState, str, str]:
    """The state the portfolio's held claims and the measured conditions give."""
    return resolve([*portfolio.held, *conditions(plan, portfolio)])
