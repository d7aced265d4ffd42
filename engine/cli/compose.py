"""The composition root: the one place in ``engine`` that imports ``adapters``.

The engine works against its ports (engine/ports.py) and plain data; the commands need
real things behind them: the paper broker, the SQLite state store, the JSON-lines logs,
the snapshot readers and writers, the snapshot builder. This module makes them and wires
them to a plan, so the rest of engine/cli (and of engine) never names an adapter. Adapters
are imported inside each function: `rulebot validate` must start without numpy or pandas.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from engine.bot.records import BOT_LOGS

if TYPE_CHECKING:  # the adapters' types the CLI renders are named through here (``as``: re-exported)
    from adapters.paper.broker import PaperBroker
    from adapters.snapshots.freqtrade import FileRead as FileRead
    from adapters.snapshots.freqtrade import Report as FreqtradeReport
    from adapters.snapshots.freqtrade import Request as FreqtradeRequest
    from adapters.snapshots.history.build import Span as Span
    from adapters.snapshots.history.build import Written as Written
    from adapters.snapshots.history.info import Summary as Summary
    from adapters.snapshots.history.sources import BuildReport as BuildReport
    from adapters.snapshots.history.sources import CoverageRead as CoverageRead
    from adapters.snapshots.history.sources import EventsRead as EventsRead
    from adapters.snapshots.history.sources import TableRead as TableRead
    from adapters.snapshots.history.spec import Spec as Spec
    from adapters.store.state import StateStore
    from engine.language.compiler import Plan, Result
    from engine.language.diagnostics import Diagnostic
    from engine.market.snapshot import Snapshot
    from engine.replay.recording import Recording
    from engine.versions.writeback import WriteOutcome, WriteRequest


logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ snapshots in


def read_snapshots(paths: Iterable[str | os.PathLike[str]], problems: list[Diagnostic]) -> Iterator[Snapshot]:
    """Every valid snapshot of the files, in order (any format); problems are collected in
    ``problems``, not raised."""
    from adapters.snapshots.columnar import read_many

    return read_many(paths, problems)


def local_snapshots(sources: Iterable[str]) -> tuple[str, ...]:
    """Snapshot files as local paths: an object-store URL (``s3://…``, ``https://…``) is fetched
    once into this machine's cache (adapters/snapshots/remote.py); a path is kept as it is."""
    from adapters.snapshots import remote

    return tuple(remote.localize(s, remote.default_cache_dir()) if remote.is_url(s) else s for s in sources)


def is_snapshot_url(source: str) -> bool:
    """Whether a snapshot argument is an object-store URL rather than a path."""
    from adapters.snapshots import remote

    return remote.is_url(source)


def shown_snapshot(source: str) -> str:
    """A snapshot argument fit to print or keep in a file: a URL without its user, password or
    query (adapters/snapshots/remote.py ``safe_url``), a path as it is."""
    from adapters.snapshots import remote

    return remote.safe_url(source) if remote.is_url(source) else source


def snapshot_span(paths: Iterable[str]) -> tuple[float | None, float | None]:
    """The first and last snapshot times of the files: a columnar file's from its time column,
    another's by reading it through."""
    from adapters.snapshots.columnar import columnar_info

    firsts, lasts = [], []
    for path in paths:
        if path.endswith(".parquet"):
            info = columnar_info(path)
            first, last = info["first_ts"], info["last_ts"]
        else:
            times = [s.ts for s in read_snapshots([path], [])]
            first, last = (min(times), max(times)) if times else (None, None)
        firsts += [first] if first is not None else []
        lasts += [last] if last is not None else []
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def check_snapshot_urls(sources: Iterable[str]) -> None:
    """Every object-store URL among ``sources`` reachable (RemoteSnapshotError says which is not and why)."""
    from adapters.snapshots import remote

    for source in sources:
        if remote.is_url(source):
            remote.check(source)


@functools.lru_cache(maxsize=1)
def recording(paths: tuple[str, ...]) -> Recording:
    """The files as columns, read once per command (``--vs`` replays them twice; immutable).
    NotReplayable when they cannot be replayed on the fast path."""
    from adapters.snapshots.columnar import read_recording

    return read_recording(*paths)


def count_snapshots(paths: Iterable[str]) -> int | None:
    """How many snapshots the files hold, from their footers; None when a file cannot say."""
    try:
        from adapters.snapshots.columnar import count_snapshots as count
    except ImportError:
        return None
    counts = [count(p) for p in paths]
    return None if None in counts else sum(c for c in counts if c is not None)


# ------------------------------------------------------------------ brokers, state, logs


def paper_broker(plan: Plan) -> PaperBroker:
    """A fresh paper broker at the plan's execution venue and starting balance."""
    from adapters.paper.broker import PaperBroker

    return PaperBroker.for_plan(plan)


def resumed_paper_broker(plan: Plan, store: StateStore) -> PaperBroker:
    """The paper broker, restored from the state database when a run resumes."""
    from adapters.paper.broker import PaperBroker
    from engine.common.errors import ResumeError
    from engine.trading.runner import CURSOR

    saved = store.blob("broker")
    if saved is None:
        return PaperBroker.for_plan(plan)
    try:
        state = json.loads(saved)
        broker = PaperBroker.from_state(plan.venues.exchange(plan.venues.execution_venue), state)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ResumeError(f"the saved paper-broker state cannot be resumed ({type(error).__name__}: {error})") from None
    cursor = store.cursor(CURSOR)
    if state["now"] != cursor:  # saved in one transaction with the cursor: apart, one of them was edited
        raise ResumeError(
            f"the saved paper-broker state cannot be resumed: it is at {state['now']!r}, the run's cursor at {cursor!r}"
        )
    return broker


def live_broker(plan: Plan, venue_id: str, store: StateStore, keys: Mapping[str, str], base_url: str | None) -> Any:
    """The live broker (adapters/venues/broker.py) on venue ``venue_id``'s client, built by the
    venue registry with ``keys`` (engine/cli/live.py read them) and the rules' base URL (or
    ``base_url``), its instruments checked against the rules (InstrumentMismatch), and
    restored from the state database when a run resumes (ResumeError when it cannot be)."""
    from adapters.venues import VENUES
    from adapters.venues.broker import VenueBroker
    from adapters.venues.common.secrets import Credentials
    from engine.common.errors import ResumeError

    exchange = plan.venues.exchange(venue_id)
    credentials = Credentials(keys["api_key_env"], keys["api_secret_env"], keys.get("passphrase_env", ""))
    client = VENUES[exchange.kind](exchange, credentials, base_url=base_url)
    client.check_instruments()  # loaded and checked against the rules now: a mismatch refuses the start
    ticks = {
        symbol: exchange.instruments[venue_symbol].tick_size
        for symbol, venue_symbol in exchange.symbols.items()
        if venue_symbol in exchange.instruments
    }
    saved = store.blob("broker")
    try:
        state = json.loads(saved) if saved is not None else None
        return VenueBroker(client, venue=venue_id, ticks=ticks, state=state)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ResumeError(
            f"the saved live-broker state cannot be resumed ({type(error).__name__}: {error}); "
            f"was this state database made by a paper run or for another venue than {venue_id}?"
        ) from None


def state_store(path: str) -> StateStore:
    """The SQLite state database (a context manager), created or migrated on open."""
    from adapters.store.state import StateStore

    return StateStore(path)


def state_lock(path: str, command: str) -> AbstractContextManager[Any]:
    """The exclusive lock of a state database, for the process's life (a context manager):
    entering it refuses with StateLocked (RB805) while another process holds it. Take it
    before ``state_store`` opens or migrates the database."""
    from adapters.store.lock import StateLock

    return StateLock(path, command=command)


def state_reader(path: str | os.PathLike[str]) -> Any:
    """A read-only view of a state database that never disturbs the process owning it
    (adapters/store/reader.py); StateError when there is no database at ``path``."""
    from adapters.store.reader import StateReader

    return StateReader(path)


def lock_holder(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Who holds a state database's lock, read without taking it: the holder's pid, command,
    since and host, and ``alive`` (that pid runs on this host); {} when nobody does."""
    from adapters.store.lock import holder

    return holder(path)


def memory_state() -> Any:
    """A state store in memory, for a dry run (nothing survives it)."""
    from engine.replay.memstate import MemoryState

    return MemoryState()


def append_log(path: str, *, fsync: bool = False) -> AbstractContextManager[Any]:
    """A JSON-lines file opened for appending records (``.write(record)``), closed on exit;
    ``fsync``: each record is on disk before ``write`` returns."""
    from adapters.store.jsonl import JsonlLog

    return JsonlLog(path, fsync=fsync)


# ------------------------------------------------------------------ rules folder


def rules_lock(rules_dir: str, *, shared: bool = False) -> AbstractContextManager[Any]:
    """The rules folder's lock for a block (adapters/rules_files.py): ``shared`` for a reader
    (the bot's reload compile), exclusive for a learner writing a learned file."""
    from adapters.rules_files import rules_lock as lock

    return lock(rules_dir, shared=shared)


def rules_fingerprint(rules_dir: str) -> dict[str, str]:
    """Each rule file of ``rules_dir`` (relative path) → the sha256 of its content."""
    from adapters.rules_files import RulesFiles

    return RulesFiles().fingerprint(rules_dir)


def write_learned(
    rules_dir: str,
    request: WriteRequest,
    logs_dir: str,
    clock: Callable[[], float],
    *,
    at: Callable[[str], None] | None = None,
    compiler: Callable[[str], Result] | None = None,
) -> WriteOutcome:
    """A learner's write-back (engine/versions/writeback.py) into ``rules_dir``/learned/,
    applied or refused, and its line in ``logs_dir``/learning_audit.jsonl. ``at(step)`` is a
    test hook called after each step (``writeback.STEPS``); ``compiler`` replaces
    ``compile_ruleset`` (write_back's)."""
    from adapters.rules_files import RulesFiles
    from engine.versions.audit import AUDIT_LOG, LearningAudit
    from engine.versions.writeback import write_back

    extra = {} if compiler is None else {"compiler": compiler}
    outcome = write_back(rules_dir, request, RulesFiles(), clock, at=at, **extra)
    with append_log(os.path.join(logs_dir, AUDIT_LOG), fsync=True) as log:
        LearningAudit(log).write(clock(), outcome, request)
    return outcome


def audit_rejection(logs_dir: str, ts: float, request: WriteRequest, gate: Mapping[str, Any]) -> None:
    """A promotion gate's rejection of ``request`` as a line of ``logs_dir``/learning_audit.jsonl."""
    from engine.versions.audit import AUDIT_LOG, LearningAudit

    os.makedirs(logs_dir, exist_ok=True)
    with append_log(os.path.join(logs_dir, AUDIT_LOG), fsync=True) as log:
        LearningAudit(log).rejected(ts, request.learner, request.base_version, request.values, gate)


class RunLogs:
    """The JSON-lines logs of a run (logs/*.jsonl), written exactly once through the state
    store's outbox: entering attaches them to the store, which first finishes what a crash
    left (cuts each log back and delivers the last step's records again). Each UTC day of the
    snapshot clock is closed into ``<log>.<day>.jsonl.gz`` (``new_day``), and closed days
    older than ``keep_s`` seconds are deleted."""

    NAMES: ClassVar[dict[str, str]] = {
        "signals": "predictive_signals",
        "universe": "signal_universe",
        "exits": "exit_decisions",
        "trades": "executed_trades",
        "post_trade": "post_trade",
        "market": "market_data",  # refused market values and the trading-state changes they caused
        "outcomes": "signal_outcomes",  # every signal resolved at each forward horizon
        **BOT_LOGS,  # the running bot's task runs, trading-state changes and reload attempts
    }

    def __init__(self, folder: str, store: StateStore, *, keep_s: float) -> None:
        from adapters.store.outbox import LogFiles

        self.folder, self.store, self.keep_s = folder, store, keep_s
        self.files = LogFiles(folder, self.NAMES)

    def new_day(self, last_ts: float | None, next_ts: float) -> list[str]:
        """Before the step at ``next_ts``: when the last step (``last_ts``, the run's cursor) was
        on another UTC day, close that day's logs and delete the days past retention; returns
        the logs closed. Deterministic in the two times, so a killed close is redone alike."""
        if last_ts is None or _utc_day(last_ts) == _utc_day(next_ts):
            return []
        closed = self.store.close_log_day(_utc_day(last_ts))
        self.files.prune(_utc_day(next_ts - self.keep_s))
        return closed

    def __enter__(self) -> RunLogs:
        self.files.__enter__()
        try:
            self.store.attach_logs(self.files)
        except BaseException:
            self.files.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.files.close()


def _utc_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


# ------------------------------------------------------------------ the running bot


def open_feed(
    spec: tuple[str, ...],
    *,
    rules_dir: str = "rules",
    profile: str | None = None,
    logs_dir: str = "logs",
    state_dir: str = "state",
    base_url: str | None = None,
) -> Any:
    """The feed ``--feed`` names (engine.bot.feed.Feed): ``replay:FILE[,FILE…]`` (repeatable),
    ``tail:FILE``, or ``live[:VENUE]`` (the venue's market data at the bot cycle, each snapshot
    recorded in ``logs_dir``/snapshots/; when none is named, the venue live mode trades on:
    ``EXCHANGE`` or the rules' execution venue, so orders and prices never come from two
    venues by accident; the intelligence's answers cached in ``state_dir``/intel-cache/;
    ``base_url``: the execution venue's API, read there by the live broker and the feed alike);
    ValueError saying what is accepted otherwise."""
    from adapters.feeds.tail import TailFeed

    kinds = {part.partition(":")[0] for part in spec}
    if kinds == {"live"}:
        if len(spec) > 1:
            raise ValueError("live reads one venue; give --feed live or --feed live:VENUE once")
        from engine.cli.live import execution_venue
        from engine.cli.options import load_plan

        plan = load_plan(rules_dir, profile)
        trading_venue = execution_venue(plan, os.environ)
        venue = spec[0].partition(":")[2] or trading_venue
        if base_url and venue != trading_venue:
            raise ValueError(
                f"--base-url points at the execution venue ({trading_venue}); this feed reads {venue}, "
                "so its prices would come from another host than the one given"
            )
        return live_feed(
            plan,
            venue,
            record_dir=os.path.join(logs_dir, SNAPSHOTS_DIR),
            base_url=base_url,
            intel_cache=os.path.join(state_dir, INTEL_CACHE_DIR),
        )
    if not spec or not kinds <= {"replay", "tail"} or any(not part.partition(":")[2] for part in spec):
        raise ValueError(
            f"{', '.join(spec) or 'nothing'}: give replay:FILE[,FILE…] (repeatable), tail:FILE or live[:VENUE]"
        )
    if kinds == {"replay"}:
        paths = [path for part in spec for path in part.partition(":")[2].split(",") if path]
        missing = [path for path in paths if not os.path.isfile(path)]
        if missing:
            raise ValueError(f"no snapshot file {missing[0]!r}")
        return replay_feed(paths)
    if len(spec) > 1:
        raise ValueError("tail: follows one file; give --feed tail:FILE once, without replay:")
    return TailFeed(spec[0].partition(":")[2])


SNAPSHOTS_DIR = "snapshots"  # inside --logs: where a live run records its snapshots
INTEL_CACHE_DIR = "intel-cache"  # inside the state folder: the intelligence's answers, served when its API fails


def live_feed(
    plan: Plan,
    venue_id: str | None,
    *,
    record_dir: str | None,
    symbols: Sequence[str] | None = None,
    base_url: str | None = None,
    intel_cache: str | None = None,
) -> Any:
    """The live feed (adapters/feeds/live.py) of ``symbols`` (default: the rule set's that the
    venue lists) on venue ``venue_id`` (default: the rules' execution venue) at the plan's bot
    cycle, recording into ``record_dir`` (None: not recorded), with the rules' intelligence
    source caching in ``intel_cache`` (None: none read); ValueError for a venue or symbol it
    cannot read."""
    from adapters.feeds.live import LiveFeed
    from adapters.snapshots.daily import DailyRecorder

    venue = venue_id or plan.venues.execution_venue
    exchange = _exchange(plan, venue)
    wanted = list(symbols) if symbols is not None else list(plan.ruleset.names())
    unlisted = [s for s in wanted if s not in exchange.symbols]
    if symbols is not None and unlisted:
        raise ValueError(f"{', '.join(unlisted)}: not in {venue}'s symbols of rules/venues.yaml")
    readable = [s for s in wanted if s in exchange.symbols]
    if not readable:
        raise ValueError(f"{venue} lists none of {', '.join(wanted)} in rules/venues.yaml")
    market = venue_client(plan, venue, base_url=base_url, keys=False)
    feed = LiveFeed(
        market,
        readable,
        venue=venue,
        every_s=bot_cycle_s(plan),
        recorder=DailyRecorder(record_dir) if record_dir is not None else None,
    )
    if intel_cache is not None:
        feed.intel = intel_source(plan, intel_cache, price_of=feed.price_of)
    return feed


def intel_source(plan: Plan, cache_dir: str, *, price_of: Callable[[str], float | None]) -> Any:
    """The first intelligence source of the rules (adapters/intel INTEL) whose key is in the
    environment, its answers cached in ``cache_dir``; None, said once in the log, when none can
    be read (its components then vote NEUTRAL)."""
    from adapters.intel import build_intel
    from engine.ports import VenueError

    for source in plan.venues.intelligence:
        try:
            return build_intel(source, cache_dir=cache_dir, price_of=price_of)
        except (VenueError, KeyError) as error:
            logger.warning("market intelligence %s not read: %s", source.get("id"), error)
    return None


def bot_cycle_s(plan: Plan) -> float:
    """How often the bot cycle runs (schedules.yaml: the interval job running ``bot_cycle``)."""
    every = [job.every_s for job in plan.schedules.jobs if "bot_cycle" in job.tasks and job.every_s]
    return float(min(every)) if every else 60.0


def _exchange(plan: Plan, venue_id: str) -> Any:
    exchange = plan.venues.exchange(venue_id)
    if exchange is None:
        known = ", ".join(e.id for e in plan.venues.exchanges)
        raise ValueError(f"no venue {venue_id!r} in rules/venues.yaml (there: {known})")
    return exchange


def venue_client(plan: Plan, venue_id: str, *, base_url: str | None = None, keys: bool = True) -> Any:
    """Venue ``venue_id``'s client (ExchangePort and MarketDataPort), built by the venue
    registry (adapters/venues VENUES) at the rules' base URL unless ``base_url`` (or the
    venue's URL environment variable) says otherwise; with ``keys``, the keys the rules name
    when the environment holds them (public calls only otherwise). ValueError for a venue
    the rules or the registry do not know."""
    from adapters.venues import VENUES
    from adapters.venues.common.secrets import credentials_from_env

    exchange = _exchange(plan, venue_id)
    factory = VENUES.get(exchange.kind)
    if factory is None:
        raise ValueError(f"{venue_id}: no client for venue kind {exchange.kind!r} (there: {', '.join(VENUES)})")
    credentials = credentials_from_env(exchange.params.get("credentials") or {}) if keys else None
    return factory(exchange, credentials, base_url=base_url)


def replay_feed(paths: Sequence[str]) -> Any:
    """The replay feed of snapshot files given as paths (`rulebot paper`'s: a name may hold a comma)."""
    from adapters.feeds.replay import ReplayFeed

    return ReplayFeed(paths)


def venue_transport(client: Any) -> dict[str, Any]:
    """What a venue client's HTTP layer measured, for `rulebot venue check`: ``base_url``,
    ``clock_skew_s`` (from the venue's Date header), ``latency_s`` of the last call and
    ``headroom`` (rate-limit pool → share left, 0..1). The shared layer
    (adapters/venues/common/http.py VenueHttp, ratelimit.py RateLimits) is found among the
    client's ``http`` and ``limits`` attributes, a venue's own wrapper of it included; what
    none has is absent."""
    from adapters.venues.common.http import VenueHttp
    from adapters.venues.common.ratelimit import RateLimits

    found: dict[str, Any] = {}
    seen: set[int] = set()
    todo = [client]
    while todo:
        part = todo.pop(0)
        if id(part) in seen:
            continue
        seen.add(id(part))
        if isinstance(part, VenueHttp) and "base_url" not in found:
            found.update(base_url=str(part.base_url), clock_skew_s=part.clock_skew_s, latency_s=part.last_latency_s)
        if isinstance(part, RateLimits) and "headroom" not in found:
            found["headroom"] = dict(part.headroom())
        todo += [getattr(part, name) for name in ("http", "limits") if getattr(part, name, None) is not None]
    return found


def rules_watcher(rules_dir: str, on_change: Callable[[frozenset[str]], None]) -> Any:
    """The rules folder's watcher (adapters/watch.py), started; ``stop()`` it."""
    from adapters.watch import RulesWatcher

    return RulesWatcher(rules_dir, on_change).start()


class BotHost:
    """What the running bot's loop needs of the machine (engine.bot.loop.Host): the logs
    folder's sizes and free disk, atomic files for the tasks, closing and pruning log days,
    and the operator's commands in ``<state_dir>/commands/`` (None: not read, as in `rulebot paper`)."""

    def __init__(self, logs: RunLogs, state_dir: str | None) -> None:
        self.logs, self.state_dir = logs, state_dir
        self.folder = Path(logs.folder)

    def log_sizes(self) -> dict[str, int]:
        sizes = {}
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    sizes[entry.name] = entry.stat(follow_symlinks=False).st_size
        return sizes

    def disk_free(self) -> int:
        import shutil

        return shutil.disk_usage(self.folder).free

    def write_file(self, out: Any) -> None:
        """``out`` (engine.bot.tasks.base.OutFile) written whole: a temporary file renamed over
        it; ValueError for a path outside the logs folder."""
        import tempfile

        target = (self.folder / out.path).resolve()
        if self.folder.resolve() not in target.parents:
            raise ValueError(f"{out.path!r} is outside the logs folder {self.folder}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, encoding="utf-8") as handle:
            handle.write(out.text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)

    def prune_logs(self, before_day: str) -> int:
        return len(self.logs.files.prune(before_day))

    def new_day(self, last_ts: float | None, next_ts: float) -> None:
        self.logs.new_day(last_ts, next_ts)

    def take_commands(self) -> list[Any]:
        from engine.bot.control import take_commands

        return take_commands(self.state_dir) if self.state_dir is not None else []

    def acknowledge(self, command: Any, outcome: Any) -> None:
        from engine.bot.control import acknowledge

        if self.state_dir is not None:
            acknowledge(self.state_dir, command, outcome)


# ------------------------------------------------------------------ snapshot files: build, convert, info


def is_snapshot_output(out: Path) -> bool:
    """Whether ``out`` is named like a snapshot file the writers can make."""
    from adapters.snapshots.history.build import OUTPUT_SUFFIXES

    return out.name.endswith(OUTPUT_SUFFIXES)


def load_build_spec(path: str | os.PathLike[str]) -> tuple[Spec | None, list[Diagnostic]]:
    """The validated build spec, or None with every problem (located in the YAML)."""
    from adapters.snapshots.history.spec import load_spec

    return load_spec(path)


def build_snapshots(spec: Spec) -> tuple[Iterator[Snapshot], BuildReport]:
    """The spec's snapshots (made as consumed) and what reading its sources found."""
    from adapters.snapshots.history.build import build_from_spec

    return build_from_spec(spec)


def build_metadata(spec: Spec) -> dict[str, Any]:
    """Where a built file came from, kept in a columnar file's metadata."""
    from adapters.snapshots.history.build import build_metadata as metadata

    return metadata(spec)


def freqtrade_request(
    datadir: str | os.PathLike[str], pairs: str | Sequence[str], timeframe: str, symbols: str | Sequence[str] | None
) -> FreqtradeRequest:
    """The checked arguments of `snapshots from-freqtrade`; ValueError (its ``option`` names
    the argument) saying why not."""
    from adapters.snapshots.freqtrade import request

    return request(os.fspath(datadir), pairs, timeframe, symbols)


def freqtrade_snapshots(request: FreqtradeRequest) -> tuple[Iterator[Snapshot], FreqtradeReport, dict[str, Any]]:
    """The snapshots of a freqtrade data folder (made as consumed), what reading it found,
    and the provenance a columnar file keeps."""
    from adapters.snapshots.freqtrade import build, metadata

    snapshots, report = build(request)
    return snapshots, report, metadata(request)


def write_snapshots(
    snapshots: Iterable[Snapshot], out: Path, build: dict[str, Any], keep: Callable[[Span], bool]
) -> Written:
    """Stream the snapshots into ``out`` (columnar or JSON lines by extension), kept only when
    ``keep`` accepts what went through; OSError when it cannot be written."""
    from adapters.snapshots.history.build import write_snapshots as write

    return write(snapshots, out, build, keep)


def summarize_snapshots(path: str | os.PathLike[str]) -> Summary:
    """What a snapshot file of any format holds, read once."""
    from adapters.snapshots.history.info import summarize

    return summarize(path)


def snapshot_file_format(path: Path) -> dict[str, Any] | None:
    """The facts of a snapshot file itself (format, size, columnar footer), None when unknown."""
    from adapters.snapshots.history.info import file_format

    return file_format(path)


def sweep_pool(name: str, scheduler: str | None, workers: int) -> AbstractContextManager[Any]:
    """`rulebot sweep`'s executor opened (adapters/executors): ``local``, or ``dask`` on the
    cluster at ``scheduler`` (None: a LocalCluster of ``workers`` processes)."""
    if name == "dask":
        from adapters.executors import dask

        return dask.opened(workers=workers, scheduler=scheduler)
    from adapters.executors import local

    return local.opened(workers=workers)


def failure_of(outcome: Any) -> str | None:
    """Why an executor's task gave no value (adapters.executors.Failed), None for a value."""
    from adapters.executors import Failed

    return outcome.reason if isinstance(outcome, Failed) else None
