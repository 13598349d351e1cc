"""Who is being spoken to: the language and time zone every word and date is written for.

One ``Speaker`` per request (or per contact, when the worker writes to one). It is held in a
context variable so that Python code, templates and the graph's plain-words helpers all read
the same choice without passing it around. The holder is mutable on purpose: the request's
middleware sets it from ``Accept-Language``, then the logged-in user's own choice overwrites
it from inside a dependency that FastAPI runs in a worker thread — a copied context, where
setting the variable itself would be lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# The languages Parcours speaks, in the order offered. English is the source language: its
# catalog is the msgids themselves.
LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English"}
SOURCE_LANGUAGE = "en"
UTC = ZoneInfo("UTC")


@dataclass
class Speaker:
    language: str = SOURCE_LANGUAGE
    time_zone: ZoneInfo = field(default=UTC)


_speaker: ContextVar[Speaker | None] = ContextVar("parcours_speaker", default=None)
_ENGLISH = Speaker()


def current() -> Speaker:
    """The speaker of this request or task; English and UTC where nobody chose (API, logs)."""
    return _speaker.get() or _ENGLISH


def begin(speaker: Speaker) -> None:
    """Start speaking as ``speaker`` for the rest of this context (a request's middleware)."""
    _speaker.set(speaker)


@contextmanager
def speaking(language: str | None, time_zone: str | ZoneInfo | None = None) -> Iterator[Speaker]:
    """Speak ``language`` inside the block: a public page, an email for one contact."""
    zone = time_zone if isinstance(time_zone, ZoneInfo) else zone_or_utc(time_zone)
    token = _speaker.set(Speaker(supported(language) or SOURCE_LANGUAGE, zone))
    try:
        yield current()
    finally:
        _speaker.reset(token)


def supported(language: str | None) -> str | None:
    """``"fr-CA"`` -> ``"fr"``; None for a language Parcours does not speak."""
    if not language:
        return None
    base = language.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def negotiate(accept_language: str | None) -> str | None:
    """The best language of an ``Accept-Language`` header that Parcours speaks, if any."""
    offers: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language and weight > 0:
            offers.append((-weight, index, language))
    return min(offers)[2] if offers else None


def zone_or_utc(name: str | None) -> ZoneInfo:
    if not name or name not in time_zone_names():
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


_ZONES: frozenset[str] | None = None


def time_zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def adopt(language: str | None, time_zone: str | None) -> None:
    """The logged-in user's choices, for the rest of this request (see the module's note)."""
    speaker = _speaker.get()
    if speaker is None:  # outside a request: never change the shared English default
        return
    if chosen := supported(language):
        speaker.language = chosen
    if time_zone:
        speaker.time_zone = zone_or_utc(time_zone)
