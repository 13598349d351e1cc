"""The value rules of ``coercion.py`` as scalar SQL functions, for the bulk SQL evaluator.

SQLite calls these Python functions (registered on every connection in ``app/db.py``), so it
agrees with the in-memory evaluator by construction. PostgreSQL gets the same functions in
PL/pgSQL from migration 0002; ``tests/db/test_condition_sql.py`` checks both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.graph.coercion import as_instant, as_number, as_utc, fold

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant_us(moment: datetime) -> int:
    """Microseconds since 1970: exact, unlike a float of seconds."""
    delta = as_utc(moment) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def epoch_us(text: object) -> int | None:
    """:func:`instant_us` of a date or date-time text, or None when it is not one."""
    instant = as_instant(text) if isinstance(text, str) else None
    return None if instant is None else instant_us(instant)


def number_or_null(text: object) -> float | None:
    """A numeric text (``-?[0-9]+(\\.[0-9]+)?``) as a number; anything else is NULL."""
    return as_number(text) if isinstance(text, str) else None


def fold_or_null(text: object) -> str | None:
    return fold(text) if isinstance(text, str) else None


SQLITE_FUNCTIONS: list[tuple[str, int, Callable[..., Any]]] = [
    ("parcours_epoch_us", 1, epoch_us),
    ("parcours_number", 1, number_or_null),
    ("parcours_fold", 1, fold_or_null),
]
