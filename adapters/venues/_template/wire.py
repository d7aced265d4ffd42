"""Answers parsed at the edge into frozen records: one function per endpoint, each taking
the decoded JSON and returning typed values or raising VenueAnswerMalformed that names the
venue, the endpoint and the field. Numbers may arrive as strings or numbers: read them with
``Decimal(str(x))``; treat ``""`` and ``null`` as missing."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.ports import VenueAnswerMalformed


def number(row: Mapping[str, Any], name: str, venue: str, endpoint: str) -> Decimal:
    """``row[name]`` read exactly and finite, or VenueAnswerMalformed saying why."""
    value = row.get(name)
    try:
        result = Decimal(str(value).strip()) if isinstance(value, (str, int, float)) else None
    except InvalidOperation:
        result = None
    if result is None or isinstance(value, bool) or not result.is_finite():
        raise VenueAnswerMalformed(
            f"{venue} {endpoint}: field {name!r} is not a number: {str(value)[:40]!r}", venue=venue, endpoint=endpoint
        )
    return result
