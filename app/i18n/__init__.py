"""Parcours speaks French and English: gettext catalogs (Babel), the speaker of each request,
and dates and numbers written for them. The JSON API and logs stay English."""

from app.i18n.formatting import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    format_time,
)
from app.i18n.phrases import Moment, Phrase, say, say_n, spoken
from app.i18n.speaker import LANGUAGES, Speaker, current, negotiate, speaking, supported
from app.i18n.text import N_, _, gettext, ngettext, npgettext, pgettext

__all__ = [
    "LANGUAGES",
    "N_",
    "Moment",
    "Phrase",
    "Speaker",
    "_",
    "current",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "format_percent",
    "format_time",
    "gettext",
    "negotiate",
    "ngettext",
    "npgettext",
    "pgettext",
    "say",
    "say_n",
    "speaking",
    "spoken",
    "supported",
]
