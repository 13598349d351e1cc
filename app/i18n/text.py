"""gettext for the current speaker: what Python code calls to say something to a person.

``_`` translates now; ``N_`` only marks a string for extraction where it must stay English
until shown (module-level tables), then ``_(value)`` translates it at display time.
"""

from __future__ import annotations

from app.i18n.catalogs import translations
from app.i18n.speaker import current


def gettext(message: str) -> str:
    return translations(current().language).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current().language).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    return str(translations(current().language).pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    return translations(current().language).npgettext(context, singular, plural, count)


def N_(message: str) -> str:
    return message


_ = gettext
