"""Semantic checks that span several rule files: references and the stop/liquidation rule."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from engine.language.diagnostics import Severity
from engine.language.durations import format_duration, parse_duration
from engine.language.kinds.base import BuildContext, Doc, index_of
from engine.language.kinds.venues import COINGLASS_HISTORY_INTERVAL, COINGLASS_NOT_IN_PLAN

LEARN_TASK = "learn"  # engine/bot/tasks/learn.py NAME (the rule language does not import the tasks' code here)

CODES = {
    "RB345": "the stop loss lies inside the liquidation buffer at the configured leverage",
    "RB380": "requirements.policy.enabled_symbols names a symbol the rule set does not list",
    "RB381": "a rule-set symbol has no symbol mapping on the execution venue",
    "RB382": "a mapped venue symbol has no contract specs (instruments)",
    "RB383": "grace_windows.exempt_tiers names an exit tier that does not exist",
    "RB384": "a learner's schedule names no schedule job",
    "RB386": "leverage above what the execution venue allows",
    "RB392": "a component allows its liquidations less age than the CoinGlass plan's history interval gives "
    "them (it is NEUTRAL most of the time on live data)",
    "RB391": "a learner's schedule names a job that does not run the learn task (the learner would never run)",
    "RB387": "a venue maps a symbol the rule set does not list",
    "RB388": "a lead_lag component but no leader symbol",
    "RB390": "a grace window (or the minimum hold) is longer than any position is held: inside it only the "
    "exempt tiers (the stop) can close a position",
}


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def check_all(specs: Mapping, docs: Mapping[str, Doc], ctx: BuildContext) -> None:
    for check in (
        _symbols,
        _venue_symbols,
        _grace_tiers,
        _grace_vs_hold_limit,
        _learner_schedules,
        _stop_vs_liquidation,
        _leader,
        _intel_freshness,
    ):
        check(specs, docs, ctx)


def _symbols(specs, docs, ctx) -> None:
    known = specs["ruleset"].names()
    for index, name in enumerate(specs["requirements"].enabled_symbols):
        if name not in known:
            ctx.report(
                docs["requirements"],
                ("policy", "enabled_symbols", index),
                "RB380",
                f"{name} is not a symbol of this rule set ({', '.join(known)})",
                suggestion=_suggest(name, known),
            )


def _venue_symbols(specs, docs, ctx) -> None:
    venues, known = specs["venues"], specs["ruleset"].names()
    for e_index, exchange in enumerate(venues.exchanges):
        primary = exchange.id == venues.execution_venue
        path = ("exchanges", e_index, "symbols")
        for name in known:
            if name not in exchange.symbols:
                ctx.report(
                    docs["venues"],
                    path,
                    "RB381",
                    f"{exchange.id} has no mapping for {name}",
                    key=True,
                    severity=Severity.ERROR if primary else Severity.WARNING,
                    suggestion=f"add `{name}: <venue symbol>` to its symbols",
                )
        for name, venue_symbol in exchange.symbols.items():
            if name not in known:
                ctx.report(
                    docs["venues"],
                    path + (name,),
                    "RB387",
                    f"{name} is not a symbol of this rule set",
                    key=True,
                    severity=Severity.WARNING,
                    suggestion=_suggest(name, known),
                )
            elif venue_symbol not in exchange.instruments:
                ctx.report(
                    docs["venues"],
                    path + (name,),
                    "RB382",
                    f"{exchange.id}: no instruments entry for {venue_symbol}",
                    suggestion=f"add {venue_symbol} to instruments with its contract specs",
                )


def _grace_tiers(specs, docs, ctx) -> None:
    tiers = [t.id for t in specs["exits"].tiers]
    for index, tier in enumerate(specs["risk"].grace_windows.exempt_tiers):
        if tier not in tiers:
            ctx.report(
                docs["risk"],
                ("grace_windows", "exempt_tiers", index),
                "RB383",
                f"'{tier}' is not an exit tier ({', '.join(tiers)})",
                suggestion=_suggest(tier, tiers),
            )


def _grace_vs_hold_limit(specs, docs, ctx) -> None:
    """RB390: inside a grace window, and before the minimum hold, only the exempt tiers may
    close. A window longer than the age by which the other tiers close every position (a
    forced exit, or time exits with profit targets: ``exits.Spec.hold_limit``) silences all
    of them for longer than any position was meant to be held: a position the stop does not
    close stays open to the window's end, holding its slot, and its exits never fire as
    written."""
    grace = specs["risk"].grace_windows
    limit = specs["exits"].hold_limit(excluding=grace.exempt_tiers)
    if limit is None:
        return
    closer, hold = limit
    exempt = ", ".join(grace.exempt_tiers) or "no tier"
    windows = [
        (docs["risk"], ("grace_windows", "standard"), "grace window", grace.standard),
        (docs["risk"], ("grace_windows", "high_conviction"), "high-conviction grace window", grace.high_conviction),
        (docs["exits"], ("min_hold",), "minimum hold", specs["exits"].min_hold_s),
    ]
    bound = "below" if hold.inclusive else "at most"
    for doc, path, what, window in windows:
        if window > hold.age_s:
            ctx.report(
                doc,
                path,
                "RB390",
                f"{what} {format_duration(window)} is longer than any position is held: {closer.id} closes every "
                f"position by {format_duration(hold.age_s)} ({hold.what}), but until then only {exempt} can close "
                f"one, so a position the stop does not close stays open for {format_duration(window)}, holding its "
                "slot, and no other exit fires",
                suggestion=f"use a {what} {bound} {format_duration(hold.age_s)}",
            )


def _learner_schedules(specs, docs, ctx) -> None:
    jobs = [j.id for j in specs["schedules"].jobs]
    for index, learner in enumerate(specs["learning"].learners):
        if learner.schedule not in jobs:
            ctx.report(
                docs["learning"],
                ("learners", index, "schedule"),
                "RB384",
                f"learner {learner.id}: no schedule job '{learner.schedule}'",
                suggestion=_suggest(learner.schedule, jobs),
            )
    _learn_jobs(specs, docs, ctx)


def _learn_jobs(specs, docs, ctx) -> None:
    """RB391: a learner runs when a job that lists the ``learn`` task is due; its schedule
    must name such a job."""
    jobs = {j.id: j for j in specs["schedules"].jobs}
    learning = [job_id for job_id, job in jobs.items() if LEARN_TASK in job.tasks]
    for index, learner in enumerate(specs["learning"].learners):
        job = jobs.get(learner.schedule)
        if job is not None and LEARN_TASK not in job.tasks:
            ctx.report(
                docs["learning"],
                ("learners", index, "schedule"),
                "RB391",
                f"learner {learner.id}: job '{learner.schedule}' does not run the {LEARN_TASK} task, "
                "so the learner never runs",
                suggestion=_suggest(learner.schedule, learning) or f"add {LEARN_TASK} to the tasks of job {job.id}",
            )


def _max_leverage(risk) -> float:
    return max([risk.leverage.max, *risk.leverage.by_conviction.values()])


def _stop_vs_liquidation(specs, docs, ctx) -> None:
    """Price move to the stop must stay (1 − buffer) of the way to liquidation (anchors A.3)."""
    risk, exits = specs["risk"], specs["exits"]
    leverage = _max_leverage(risk)
    liq_move = 1.0 / leverage - risk.liquidation.maintenance_margin_pct / 100.0
    allowed = liq_move * (1.0 - risk.liquidation.buffer_fraction)
    for stop in exits.stops():
        stop_move = stop.loss_pct / 100.0
        if exits.pnl_basis == "margin":
            stop_move /= leverage
        if stop_move > allowed:
            index = index_of(docs["exits"], ("tiers",), stop.tier.id)
            ctx.report(
                docs["exits"],
                ("tiers", index, stop.field),
                "RB345",
                f"at {leverage:g}x leverage liquidation is {liq_move * 100:.3g} % away; with a "
                f"{risk.liquidation.buffer_fraction:g} buffer the stop may be at most {allowed * 100:.3g} % "
                f"away, but it is {stop_move * 100:.3g} %",
                suggestion="tighten the stop or lower risk.leverage.max",
            )
    _venue_leverage(specs, docs, ctx, leverage)


def _venue_leverage(specs, docs, ctx, leverage: float) -> None:
    venues = specs["venues"]
    exchange = venues.exchange(venues.execution_venue)
    if exchange is None:
        return
    for name, inst in exchange.instruments.items():
        if leverage > inst.max_leverage:
            ctx.report(
                docs["risk"],
                ("leverage", "max"),
                "RB386",
                f"leverage {leverage:g}x exceeds {exchange.id} {name}'s maximum {inst.max_leverage:g}x",
            )


def _leader(specs, docs, ctx) -> None:
    follower = next((c for c in specs["signals"].components if c.needs_leader), None)
    if follower is not None and specs["ruleset"].leader is None:
        ctx.report(
            docs["ruleset"],
            ("symbols",),
            "RB388",
            f"a {follower.kind} component needs a symbol with role: leader; it will always be NEUTRAL",
            key=True,
            severity=Severity.WARNING,
            suggestion="set role: leader on BTCUSDT",
        )


def _intel_freshness(specs, docs, ctx) -> None:
    """RB392: on live data, liquidations come only from CoinGlass, and on a plan without its
    live coin list only as history rows one interval apart: a component allowing them less age
    than that can vote only just after each row is published (reference §3.2)."""
    for source in specs["venues"].intelligence:
        plan = source.get("plan")
        if source.get("kind") != "coinglass" or "liquidations" not in COINGLASS_NOT_IN_PLAN.get(plan, ()):
            continue
        interval_s = parse_duration(COINGLASS_HISTORY_INTERVAL[plan])
        for index, component in enumerate(specs["signals"].components):
            allowed = component.max_input_age.get("liquidations")
            if allowed is None or allowed >= interval_s:
                continue
            ctx.report(
                docs["signals"],
                ("components", index, "max_input_age", "liquidations"),
                "RB392",
                f"{component.id} accepts liquidations at most {format_duration(allowed)} old, but on the CoinGlass "
                f"{plan} plan they arrive as {COINGLASS_HISTORY_INTERVAL[plan]} rows: on live data it can vote about "
                f"{allowed / interval_s:.0%} of the time (dry-run on recorded data is unaffected)",
                severity=Severity.WARNING,
                suggestion=f"raise max_input_age.liquidations to {COINGLASS_HISTORY_INTERVAL[plan]}, or use a plan "
                "with CoinGlass's liquidation coin list (startup and above)",
            )
