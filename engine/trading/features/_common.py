"""Shared plumbing for feature calculators: input cleaning, parameter checks, state.

Every calculator follows one contract (see docs/features.md):

* ``update(ts, ...)`` accepts a reading only if ``ts`` is finite and strictly later than
  the last accepted ``ts`` and every input is a finite number; anything else is ignored
  whole, so a bad reading never half-updates a feature.
* ``value`` is ``None`` while warming up.
* ``state()`` is plain JSON (floats round-trip exactly through ``json``), and
  ``from_state()`` rebuilds an object whose later values are bit-identical.

:class:`Feature` carries what every calculator shares: ``last_ts``, the reading check of
``update`` and ``state()`` / ``from_state()`` written once from a declared field list.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import fields
from operator import attrgetter
from typing import Any, NamedTuple, Self

STATE_VERSION = 1


def num(x: Any) -> float | None:
    """``float(x)`` if it is a finite number, else ``None`` (None, NaN, ±inf, junk)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    # f - f is 0.0 for finite f and NaN for NaN/inf: one comparison rejects both.
    return f if f - f == 0.0 else None


def next_ts(ts: Any, last_ts: float | None) -> float | None:
    """The accepted timestamp, or ``None`` if it is invalid, duplicate or out of order."""
    t = num(ts)
    if t is None or (last_ts is not None and t <= last_ts):
        return None
    return t


def check_int(name: str, value: Any, minimum: int) -> int:
    """Validate an integer parameter (bools are rejected: ``True`` is not a window)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Validate a strictly positive finite number (window lengths in seconds)."""
    f = None if isinstance(value, bool) else num(value)
    if f is None or f <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return f


def check_non_negative(name: str, value: Any) -> float:
    """Validate a finite number >= 0 (thresholds)."""
    f = None if isinstance(value, bool) else num(value)
    if f is None or f < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return f


def header(obj: object) -> dict:
    """The common part of every ``state()`` dict."""
    return {"type": type(obj).__name__, "version": STATE_VERSION}


def check_state(cls: type, state: Mapping[str, Any]) -> None:
    """Refuse a state dict written by another class or another state version."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{cls.__name__} state must be a mapping, got {type(state).__name__}")
    kind = state.get("type")
    if kind != cls.__name__:
        raise ValueError(f"state is for {kind!r}, not {cls.__name__}")
    if state.get("version") != STATE_VERSION:
        raise ValueError(
            f"{cls.__name__} state version {state.get('version')!r} is not supported (expected {STATE_VERSION})"
        )


def sign(x: float) -> int:
    """-1, 0 or +1."""
    return (x > 0.0) - (x < 0.0)


def opt_float(x: Any) -> float | None:
    """``None`` stays ``None``, anything else becomes a float (for loading states)."""
    return None if x is None else float(x)


def read_only(attr: str, doc: str) -> property:
    """A read-only property returning ``self.<attr>``. The getter is C code
    (``operator.attrgetter``), cheaper than a ``def`` on the hot ``value`` reads."""
    return property(attrgetter(attr), doc=doc)


# -- declarative state -------------------------------------------------------------------
class Codec(NamedTuple):
    """How one attribute is written to a state dict and read back.

    ``dump(value)`` gives the JSON-ready form; ``load(raw, current)`` gives the attribute's
    new value from the JSON form (``current`` is the attribute as the constructor left
    it, for a deque's ``maxlen`` or a part restored in place).
    """

    dump: Callable[[Any], Any]
    load: Callable[[Any, Any], Any]


def _same(x: Any) -> Any:
    return x


def _pairs_out(entries: Any) -> list:
    return [list(e) for e in entries]


def _opt_tuple_out(e: tuple | None) -> list | None:
    return None if e is None else list(e)


FLOAT = Codec(_same, lambda raw, cur: float(raw))
OPT_FLOAT = Codec(_same, lambda raw, cur: opt_float(raw))
INT = Codec(_same, lambda raw, cur: int(raw))
OPT_INT = Codec(_same, lambda raw, cur: None if raw is None else int(raw))
FLOATS = Codec(list, lambda raw, cur: [float(x) for x in raw])
INTS = Codec(list, lambda raw, cur: [int(x) for x in raw])
OPT_INTS = Codec(list, lambda raw, cur: [None if x is None else int(x) for x in raw])
#: a deque of floats, saved as a list (the loaded deque keeps the constructor's maxlen)
FLOAT_DEQUE = Codec(list, lambda raw, cur: deque(map(float, raw), cur.maxlen))
#: a deque of tuples of floats (``(ts, value)`` entries), saved as a list of lists
TUPLE_DEQUE = Codec(_pairs_out, lambda raw, cur: deque((tuple(map(float, e)) for e in raw), cur.maxlen))
#: a tuple of floats or None (an evicted or anchor entry)
OPT_TUPLE = Codec(_opt_tuple_out, lambda raw, cur: None if raw is None else tuple(map(float, raw)))


def nested(cls: type[Feature]) -> Codec:
    """A calculator (or window) held inside another, with its own typed state."""
    return Codec(lambda x: x.state(), lambda raw, cur: cls.from_state(raw))


def nested_list(cls: type[Feature]) -> Codec:
    """A list of calculators of one class."""
    return Codec(lambda xs: [x.state() for x in xs], lambda raw, cur: [cls.from_state(s) for s in raw])


def record(cls: type, *converters: Callable[[Any], Any]) -> Codec:
    """A frozen value dataclass (or None), saved as the list of its fields in order and
    rebuilt with one converter per field (e.g. ``record(CrossState, int, opt_float, bool)``)."""
    names = tuple(f.name for f in fields(cls))
    if len(names) != len(converters):
        raise TypeError(f"{cls.__name__} has {len(names)} fields, got {len(converters)} converters")

    def dump(v: Any) -> list | None:
        return None if v is None else [getattr(v, n) for n in names]

    def load(raw: Any, cur: Any) -> Any:
        if raw is None:
            return None
        return cls(*(conv(x) for conv, x in zip(converters, raw, strict=True)))

    return Codec(dump, load)


def dump_fields(obj: Any, out: dict | None = None) -> dict:
    """``obj._STATE``'s fields into ``out`` (a new dict by default), in declared order."""
    out = {} if out is None else out
    for key, attr, codec in obj._STATE:
        out[key] = codec.dump(getattr(obj, attr))
    return out


def load_fields(obj: Any, state: Mapping[str, Any]) -> None:
    """Set ``obj._STATE``'s fields from a state dict written by :func:`dump_fields`."""
    for key, attr, codec in obj._STATE:
        setattr(obj, attr, codec.load(state[key], getattr(obj, attr)))


def _load_in_place(raw: Any, cur: Any) -> Any:
    load_fields(cur, raw)
    return cur


#: a helper object with its own ``_STATE`` (no type header), restored into the instance
#: the constructor built (it carries constructor arguments such as a window length)
PART = Codec(dump_fields, _load_in_place)

StateField = tuple[str, str, Codec]  # (state key, attribute name, codec)
LAST_TS: StateField = ("last_ts", "_last_ts", OPT_FLOAT)

_REJECTED_1 = (None, None)
_REJECTED_2 = (None, None, None)


class Feature:
    """Base of the calculators (and windows): ``last_ts``, the reading check and state.

    A subclass calls ``super().__init__()`` and declares

    * ``_PARAMS``: its constructor keywords, saved first in ``state()`` and passed back to
      the constructor by ``from_state`` (so parameters are validated again); ``_params()``
      reads attributes of the same names, override it where they differ;
    * ``_STATE``: ``(state key, attribute, codec)`` triples saved after the parameters, in
      that order, and restored by ``from_state``;
    * ``_after_load()`` when attributes derived from the saved ones must be rebuilt.
    """

    __slots__ = ("_last_ts",)

    _PARAMS: tuple[str, ...] = ()
    _STATE: tuple[StateField, ...] = ()

    def __init__(self) -> None:
        self._last_ts: float | None = None

    last_ts = read_only("_last_ts", "ts of the last accepted reading (None before any).")

    def _reading(self, ts: Any, x: Any) -> tuple[float, float] | tuple[None, None]:
        """``(t, x)`` as floats when ``ts`` is finite and strictly later than ``last_ts``
        and ``x`` is a finite number, else ``(None, None)``. Does not consume ``ts``:
        the caller applies its domain checks, then sets ``self._last_ts = t``.

        The same rules as ``next_ts(ts, last_ts)`` and ``num(x)``, inlined: this runs on
        every update.
        """
        try:
            t = float(ts)
            v = float(x)
        except (TypeError, ValueError):
            # Rejected. Convert every input as num() would, so an input that raises
            # another error (an int too large for a float) still raises, as it did.
            num(ts), num(x)
            return _REJECTED_1
        if t - t != 0.0 or v - v != 0.0:  # NaN or ±inf
            return _REJECTED_1
        last = self._last_ts
        if last is not None and t <= last:
            return _REJECTED_1
        return t, v

    def _reading2(self, ts: Any, x: Any, y: Any) -> tuple[float, float, float] | tuple[None, None, None]:
        """:meth:`_reading` for two inputs: ``(t, x, y)`` or ``(None, None, None)``."""
        try:
            t = float(ts)
            v = float(x)
            w = float(y)
        except (TypeError, ValueError):
            num(ts), num(x), num(y)  # as in _reading
            return _REJECTED_2
        if t - t != 0.0 or v - v != 0.0 or w - w != 0.0:
            return _REJECTED_2
        last = self._last_ts
        if last is not None and t <= last:
            return _REJECTED_2
        return t, v, w

    def _params(self) -> dict:
        return {name: getattr(self, name) for name in self._PARAMS}

    def state(self) -> dict:
        """Plain JSON: type header, parameters, then the ``_STATE`` fields."""
        return dump_fields(self, {**header(self), **self._params()})

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        """Rebuild from ``state()``; refuses a state of another class or version."""
        check_state(cls, state)
        obj = cls(**{name: state[name] for name in cls._PARAMS})
        load_fields(obj, state)
        obj._after_load()
        return obj

    def _after_load(self) -> None:
        """Rebuild attributes derived from the loaded fields (nothing by default)."""
