"""Dates, times, numbers and money written the speaker's way, in the speaker's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from babel import Locale, dates, numbers

from app.i18n.speaker import current

# Babel's named widths, and the few shapes the pages use beyond them.
_DATE = {"short": "short", "medium": "medium", "long": "long", "full": "full"}
_SKELETONS = {"day": "dMMM", "day_year": "yMMMd", "weekday": "EEEdMMM", "month": "yMMM"}


def local(moment: datetime) -> datetime:
    """A stored instant (naive means UTC) as the speaker's wall-clock time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(current().time_zone)


def format_datetime(moment: datetime | None, width: str = "day_year") -> str:
    """``5 janv. 2026, 10:00`` / ``Jan 5, 2026, 10:00 AM`` — never "UTC" unless chosen."""
    if moment is None:
        return "—"
    speaker = current()
    when = local(moment)
    if width in _SKELETONS:
        day = dates.format_skeleton(_SKELETONS[width], when, locale=speaker.language)
        time = dates.format_time(when, "short", locale=speaker.language)
        # The language's own way to join a day and a time (CLDR): "5 janv. 2026, 10:00".
        joined = Locale.parse(speaker.language).datetime_formats["medium"]
        return str(joined).replace("{1}", day).replace("{0}", time)
    return dates.format_datetime(when, _DATE.get(width, "medium"), locale=speaker.language)


def format_date(day: date | datetime | None, width: str = "medium") -> str:
    if day is None:
        return "—"
    language = current().language
    if isinstance(day, datetime):
        day = local(day).date()
    if width in _SKELETONS:
        return dates.format_skeleton(_SKELETONS[width], day, locale=language)
    return dates.format_date(day, _DATE.get(width, "medium"), locale=language)


def format_time(moment: datetime | None, width: str = "short") -> str:
    if moment is None:
        return "—"
    return dates.format_time(local(moment), width, locale=current().language)


def format_zone(moment: datetime | None = None) -> str:
    """The speaker's zone as people name it: ``heure : France`` / ``France Time``."""
    return dates.get_timezone_location(current().time_zone, locale=current().language)


def format_number(value: float | int | Decimal | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    language = current().language
    if digits is None:
        return numbers.format_decimal(value, locale=language)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(value, format=pattern, locale=language)


def format_percent(ratio: float | None, digits: int = 0) -> str:
    """``0.125`` -> ``12,5 %`` / ``12.5%``."""
    if ratio is None:
        return "—"
    language = current().language
    pattern = Locale.parse(language).percent_formats[None].pattern
    if digits:  # "#,##0 %" -> "#,##0.# %": the locale's spacing, up to ``digits`` decimals
        pattern = pattern.replace("0", "0." + "#" * digits, 1)
    return numbers.format_percent(ratio, format=pattern, locale=language)


def format_money(amount: float | int | Decimal | None, currency: str = "EUR") -> str:
    if amount is None:
        return "—"
    return numbers.format_currency(amount, currency or "EUR", locale=current().language)


def format_relative(seconds: int) -> str:
    """``3 minutes`` / ``3 minutes``, ``2 days`` / ``2 jours``: a duration in words."""
    return dates.format_timedelta(seconds, threshold=1.5, locale=current().language)
