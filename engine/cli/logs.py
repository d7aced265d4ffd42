"""Process-wide logging for the ``rulebot`` command: human lines or JSON lines on stderr.

Library modules only ever call ``logging.getLogger(__name__)``; this module, called once by
the CLI's root group (``--log-format``, ``--log-level``), decides where records go and how
they look. stdout stays the command's output. Every record passes a redaction filter first
(engine/common/redaction.py, shared with diagnostics), so an API key or secret that reaches
a message, an ``extra`` field or a traceback is never written out. Decision records
(``logs/*.jsonl``) are not logging and do not come here.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.common.redaction import REDACTED, SENSITIVE_NAME, redact

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error", "critical")
HANDLER_NAME = "rulebot"  # the one handler this module owns on the root logger

#: The attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _redact_value(name: str, value: Any) -> Any:
    """An ``extra`` value made safe: hidden whole under a sensitive name, else searched inside."""
    if SENSITIVE_NAME.search(name):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value("", v) for v in value]
    return value


class RedactSecrets(logging.Filter):
    """Rewrites each record in place (message, extras, traceback) before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        for name in extras(record):
            setattr(record, name, _redact_value(name, getattr(record, name)))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller added with ``extra=``."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """``rulebot: INFO engine.replay.dryrun: dry-run ends (cycles=120)``: one line, extras appended."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"rulebot: {record.levelname} {record.name}: {record.getMessage()}"
        fields = extras(record)
        if fields:
            line += " (" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def _plain(value: Any) -> Any:
    """JSON-safe: NaN/∞ become strings (JSON has no such numbers), unknown objects their str()."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (ISO-8601 UTC), level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in extras(record).items():
            entry.setdefault(name, _plain(value))  # an extra never overwrites the fixed fields
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, allow_nan=False)


def configure(fmt: str = "text", level: str = "warning") -> None:
    """Send log records at ``level`` and above to stderr as ``fmt`` (text or json).

    Idempotent: a second call replaces this module's handler instead of adding another, so
    records are never written twice. Other handlers on the root logger are left alone."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if level.lower() not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
