"""Jinja's i18n extension wired to the current speaker, and the formatting filters.

Templates write ``{% trans %}…{% endtrans %}`` or ``{{ _("…") }}``; the new-style callables
escape their arguments under autoescape, so a contact's name inside a translated sentence
stays text.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from app.i18n import formatting
from app.i18n.catalogs import js_catalog
from app.i18n.speaker import LANGUAGES, current
from app.i18n.text import gettext, ngettext, npgettext, pgettext


def install(env: Environment) -> None:
    env.policies["ext.i18n.trimmed"] = True  # catalog entries without the template's indent
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    env.globals["language"] = _language
    env.globals["languages"] = LANGUAGES
    env.globals["js_catalog"] = _js_catalog
    env.filters["datetime"] = formatting.format_datetime
    env.filters["date"] = formatting.format_date
    env.filters["time"] = formatting.format_time
    env.filters["number"] = formatting.format_number
    env.filters["percent"] = formatting.format_percent
    env.filters["money"] = formatting.format_money
    env.filters["duration"] = formatting.format_relative
    env.filters["local"] = formatting.local


def _language() -> str:
    return current().language


def _js_catalog() -> dict[str, Any]:
    return {"language": current().language, "messages": js_catalog(current().language)}
