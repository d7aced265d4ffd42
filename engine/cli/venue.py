"""`rulebot venue check VENUE`: is a venue reachable and as the rules describe it?

Loads the venue's instruments; checks the rules' symbol map (every rulebot symbol maps to a
listed, tradeable instrument) and contract specs (contract size, size step, tick, minimum
size, leverage limit) against rules/venues.yaml; fetches a ticker and an order book per
symbol; and, when the keys the rules name are in the environment, the account balance and
the open positions. Prints a health table: each check with its result, latency and what it
found or why it failed, then the clock skew measured against the venue's Date header and
the headroom left in each rate-limit pool. Exit 1 when a check failed, 0 otherwise.
The client comes from engine/cli/compose.py ``venue_client`` (the venue registry) at the
rules' base URL, or ``--base-url``, or the venue's URL environment variable; docs/venues/README.md.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID, EXIT_OK
from engine.cli.options import load_plan
from engine.common.redaction import redact_known, redact_tokens, register_secret

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"
SPEC_FIELDS = ("contract_size", "size_step", "tick_size", "min_size", "max_leverage")


@dataclass(frozen=True, slots=True)
class Check:
    """One row of the health table."""

    name: str
    result: str  # ok | FAILED | skipped
    latency_ms: float | None
    detail: str  # what was found, or why it failed (the error's code and message)


@dataclass
class Health:
    venue: str
    base_url: str
    keys: str  # "present" or the variable names that are not set
    checks: list[Check] = field(default_factory=list)
    clock_skew_s: float | None = None
    rate_limit_headroom: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check.result != FAILED for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class _Timed:
    """Runs one call of a check, measuring it; an exception is the check's failure."""

    def __init__(self, timer: Callable[[], float]) -> None:
        self.timer = timer

    def __call__(self, name: str, call: Callable[[], Any], describe: Callable[[Any], str]) -> tuple[Check, Any]:
        started = self.timer()
        try:
            answer = call()
        except Exception as error:  # a check reports every failure, it never stops the others
            code = getattr(error, "code", type(error).__name__)
            return Check(name, FAILED, _ms(self.timer() - started), redact_tokens(f"{code}: {error}")), None
        latency = _ms(self.timer() - started)
        try:
            return Check(name, OK, latency, describe(answer)), answer
        except Exception as error:  # an answer of the wrong type is the venue client's fault: said, not raised
            return Check(name, FAILED, latency, f"unexpected answer ({type(error).__name__}: {error})"), None


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def run_checks(
    client: Any, exchange: Any, *, keys: bool, timer: Callable[[], float] = time.perf_counter
) -> list[Check]:
    """Every check of ``client`` (MarketDataPort and, with ``keys``, ExchangePort) against the
    rules' ``exchange``, in order; none raises."""
    timed = _Timed(timer)
    checks: list[Check] = []
    loaded, instruments = timed("instruments", client.instruments, lambda found: f"{len(found)} listed")
    checks.append(loaded)
    if instruments is None:
        checks += [
            Check(name, SKIPPED, None, "the instruments could not be loaded")
            for name in ("symbol map", "contract specs")
        ]
    else:
        checks += [symbol_map_check(instruments, exchange), contract_specs_check(instruments, exchange)]
    for symbol in exchange.symbols:
        checks.append(timed(f"ticker {symbol}", functools.partial(client.ticker, symbol), _ticker)[0])
        checks.append(timed(f"order book {symbol}", functools.partial(client.order_book, symbol, 5), _book)[0])
    if not keys:
        why = "no keys in the environment (names in rules/venues.yaml credentials)"
        checks += [Check("accounts", SKIPPED, None, why), Check("positions", SKIPPED, None, why)]
        return checks
    checks.append(timed("accounts", client.balance, _balance)[0])
    checks.append(timed("positions", client.positions, _positions)[0])
    return checks


def _by_venue_symbol(instruments: Sequence[Any]) -> dict[str, Any]:
    return {instrument.venue_symbol: instrument for instrument in instruments}


def symbol_map_check(instruments: Sequence[Any], exchange: Any) -> Check:
    """Every rulebot symbol maps to an instrument the venue lists and trades."""
    listed = _by_venue_symbol(instruments)
    wrong = []
    for symbol, venue_symbol in exchange.symbols.items():
        found = listed.get(venue_symbol)
        if found is None:
            wrong.append(f"{symbol} → {venue_symbol}: not listed by the venue")
        elif not found.tradeable:
            wrong.append(f"{symbol} → {venue_symbol}: listed but not tradeable")
    if wrong:
        return Check("symbol map", FAILED, None, "; ".join(wrong))
    return Check("symbol map", OK, None, ", ".join(f"{s} → {v}" for s, v in exchange.symbols.items()))


def contract_specs_check(instruments: Sequence[Any], exchange: Any) -> Check:
    """The venue's contract specs equal the rules' (each difference named, venue vs rules)."""
    listed = _by_venue_symbol(instruments)
    differences = []
    for venue_symbol, rules in exchange.instruments.items():
        found = listed.get(venue_symbol)
        if found is None:
            continue  # said by the symbol map (or not traded by the rule set)
        for name in SPEC_FIELDS:
            venue_value, rules_value = float(getattr(found, name)), float(getattr(rules, name))
            if not math.isclose(venue_value, rules_value, rel_tol=1e-9, abs_tol=1e-12):
                differences.append(f"{venue_symbol} {name}: venue {venue_value:g}, rules {rules_value:g}")
    if differences:
        return Check("contract specs", FAILED, None, "; ".join(differences))
    return Check("contract specs", OK, None, f"{len(exchange.instruments)} as in rules/venues.yaml")


def _ticker(ticker: Any) -> str:
    quote = f", bid {ticker.bid:g} ask {ticker.ask:g}" if ticker.bid is not None and ticker.ask is not None else ""
    return f"last {ticker.last:g}{quote}"


def _book(book: Any) -> str:
    if not book.bids or not book.asks:
        raise ValueError(f"an empty side ({len(book.bids)} bid(s), {len(book.asks)} ask(s))")
    return f"{len(book.bids)}×{len(book.asks)} levels, best {book.bids[0][0]:g} / {book.asks[0][0]:g}"


def _balance(balance: Any) -> str:
    return f"equity {balance.equity:,.2f}, available margin {balance.available_margin:,.2f}"


def _positions(positions: Sequence[Any]) -> str:
    if not positions:
        return "none open"
    return ", ".join(f"{p.symbol} {p.quantity:+g}" for p in positions)


def register_keys(exchange: Any, environ: Mapping[str, str]) -> None:
    """Register the values of the keys the rules name for redaction (as live mode does), so
    a venue that echoes a key in an error cannot get it printed."""
    for name in dict(exchange.params.get("credentials") or {}).values():
        register_secret(environ.get(str(name), ""))


def missing_keys(exchange: Any, environ: Mapping[str, str]) -> list[str]:
    """The names of the key variables the rules give that the environment does not set."""
    names = dict(exchange.params.get("credentials") or {})
    return [str(name) for name in names.values() if not environ.get(str(name), "").strip()]


# ------------------------------------------------------------------ output


def render_text(health: Health) -> str:
    rows = [("CHECK", "RESULT", "LATENCY", "DETAIL")]
    for check in health.checks:
        latency = "" if check.latency_ms is None else f"{check.latency_ms:g} ms"
        rows.append((check.name, check.result, latency, check.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"venue check {health.venue} at {health.base_url} (keys: {health.keys})"]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    if health.clock_skew_s is None:
        skew = "unknown (no Date header answered)"
    else:
        skew = f"{health.clock_skew_s:+.2f} s ({'venue ahead' if health.clock_skew_s > 0 else 'venue behind'})"
    lines.append(f"clock skew: {skew}")
    pools = ", ".join(f"{pool} {share * 100:.0f} %" for pool, share in sorted(health.rate_limit_headroom.items()))
    lines.append(f"rate-limit headroom: {pools or 'unknown'}")
    failed = sum(check.result == FAILED for check in health.checks)
    lines.append(f"venue check: {'all checks passed' if not failed else f'{failed} check(s) FAILED'}")
    return "\n".join(lines)


@click.group()
def venue() -> None:
    """The venues of rules/venues.yaml (docs/venues/README.md)."""


@venue.command()
@click.argument("venue_id", metavar="VENUE")
@click.option(
    "--base-url", metavar="URL", help="The venue's API at this URL instead of the rules' (demo, a local fake)."
)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
def check(venue_id: str, base_url: str | None, output: str, rules_dir: str) -> None:
    """Check VENUE: instruments, symbol map and contract specs against the rules, a ticker and
    a book per symbol, and with keys the accounts and positions; a health table with latency,
    clock skew and rate-limit headroom. Exit 1 when a check failed."""
    plan = load_plan(rules_dir, None)
    exchange = plan.venues.exchange(venue_id)
    if exchange is None:
        known = ", ".join(e.id for e in plan.venues.exchanges)
        raise click.BadParameter(
            f"no venue {venue_id!r} in {rules_dir}/venues.yaml (there: {known})", param_hint="VENUE"
        )
    missing = missing_keys(exchange, os.environ)
    register_keys(exchange, os.environ)
    try:
        client = compose.venue_client(plan, venue_id, base_url=base_url, keys=not missing)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="VENUE") from None
    checks = run_checks(client, exchange, keys=not missing)
    transport = compose.venue_transport(client)
    health = Health(
        venue_id,
        transport.get("base_url") or base_url or str(exchange.params.get("base_url", "")),
        "present" if not missing else f"absent ({', '.join(missing)} not set)",
        checks,
        transport.get("clock_skew_s"),
        transport.get("headroom") or {},
    )
    shown = json.dumps(health.as_dict(), indent=2) if output == "json" else render_text(health)
    click.echo(redact_known(shown))
    if not health.ok:
        sys.exit(EXIT_INVALID)
    sys.exit(EXIT_OK)
