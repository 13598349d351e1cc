"""The compiled message catalogs, loaded once per language.

Two domains: ``messages`` (Python and Jinja templates) and ``js`` (the canvas modules, served
to the browser as a small JSON catalog — there is no build step to bundle them).
"""

from __future__ import annotations

import gettext as gettext_module
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from app.i18n.speaker import LANGUAGES, SOURCE_LANGUAGE

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAINS = ("messages", "js")


@cache
def translations(language: str, domain: str = "messages") -> NullTranslations:
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    loaded = Translations.load(str(LOCALES_DIR), [language], domain)
    if not isinstance(loaded, Translations):  # no compiled catalog: fail loudly in tests
        raise FileNotFoundError(f"no compiled '{domain}' catalog for {language} in {LOCALES_DIR}")
    return loaded


@cache
def js_catalog(language: str) -> dict[str, str | list[str]]:
    """msgid -> translation (a list of plural forms for plural entries) for the ES modules."""
    catalog = translations(language, "js")
    if not isinstance(catalog, gettext_module.GNUTranslations):
        return {}
    entries: dict[str, str | list[str]] = {}
    plurals: dict[str, dict[int, str]] = {}
    for key, value in catalog._catalog.items():
        if isinstance(key, tuple):
            plurals.setdefault(key[0], {})[key[1]] = value
        elif key:
            entries[key] = value
    for msgid, forms in plurals.items():
        entries[msgid] = [forms[index] for index in sorted(forms)]
    return entries
