"""Whole numbers a client may send, bounded by the database column they end up compared with.

PostgreSQL refuses a bind outside its column's type (``integer out of range``) and SQLite one
past 64 bits (``OverflowError``); either would answer 500. Declared on path and query parameters
and on body fields, these bounds turn such a number into a 422 on both databases, before any
query runs.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Ids of the tables keyed by INTEGER (contacts, lists, scenarios, users, imports, …) and
# counters stored as INTEGER (a draft's revision).
Int32 = Annotated[int, Interval(ge=-INT32_MAX - 1, le=INT32_MAX)]
# Ids of the BIGINT tables (events, enrollments, outbox, mailbox) and their page cursors.
Int64 = Annotated[int, Interval(ge=-INT64_MAX - 1, le=INT64_MAX)]


def plain_digits(text: str) -> bool:
    """Only the ASCII digits 0-9: ``str.isdigit()`` also takes "²" or "٣", which ``int()``
    then refuses or reads as another number."""
    return text.isascii() and text.isdigit()
