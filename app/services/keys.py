"""Stable keys of lists, segments and messages: the rule they follow, and one derived from a name.

A key is what scenarios, the API and the shop's code refer to; the name is what people read.
A marketer types the name ("Clients fidèles") and is offered ``clients-fideles``: accents
folded, lower case, words joined by hyphens, and a ``-2``, ``-3``… suffix when the key is taken.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlmodel import Session

from app.i18n import N_, _
from app.services.errors import Invalid

MAX_KEY = 100
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
# The same rule for an HTML ``pattern`` attribute (anchored by the browser).
KEY_PATTERN = r"[a-z0-9][a-z0-9_\-]*"
KEY_RULE = N_(
    "a key uses lower-case letters, digits, '-' and '_' (up to 100 characters), "
    "e.g. newsletter or loyal-customers"
)
FALLBACK = "item"


def check_key(key: str) -> str:
    """The key, trimmed; Invalid naming it and the rule when it does not follow the rule."""
    key = key.strip()
    if not KEY_RE.match(key):
        words = {"key": repr(key), "rule": _(KEY_RULE)}
        raise Invalid(_("%(key)s cannot be used as a key: %(rule)s.") % words)
    return key


# Letters NFKD does not decompose, written as French (and its neighbours) spell them out.
_SPELLED = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def ascii_folded(text: str) -> str:
    """``Clients fidèles`` → ``Clients fideles``: accents dropped, what has no ASCII form gone."""
    return _without_accents(text).encode("ascii", "ignore").decode("ascii")


def slug(text: str, *, separator: str = "-", max_length: int = MAX_KEY) -> str:
    """``Clients fidèles`` → ``clients-fideles``, ``Œuvres d’été`` → ``oeuvres-d-ete``: accents
    folded, anything else that is not a letter or digit a separator; empty when nothing of
    the text is left."""
    words = re.sub(r"[^a-z0-9]+", separator, _without_accents(text).lower())
    return words.strip(separator)[:max_length].rstrip(separator)


def key_from_name(name: str, taken: Callable[[str], bool]) -> str:
    """A key for ``name`` that ``taken`` says is free: the slug, else the slug with ``-2``,
    ``-3``… (cut so the whole stays within the column)."""
    base = slug(name) or FALLBACK
    if not taken(base):
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: MAX_KEY - len(suffix)].rstrip("-") + suffix
        if not taken(candidate):
            return candidate
        number += 1


def free_key(session: Session, column: Mapped[str], name: str) -> str:
    """``key_from_name`` against the keys of one table (``col(ContactList.key)``…),
    read in one query: every key that starts like the slug."""
    base = slug(name) or FALLBACK
    prefix = base[: MAX_KEY - 4].rstrip("-")  # a slug holds no LIKE wildcard
    used = set(session.scalars(select(column).where(column.like(prefix + "%"))))
    return key_from_name(name, used.__contains__)


def key_or_derived(session: Session, column: Mapped[str], key: str, name: str) -> str:
    """The key typed, checked; when none was typed, one derived from the name."""
    if key.strip():
        return check_key(key)
    return free_key(session, column, name)
