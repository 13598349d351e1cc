"""Extract, update, check and compile the catalogs: ``python -m app.i18n.catalog_tool``.

``make i18n`` runs ``extract`` (templates → ``.pot`` → each ``.po``, keeping translations)
then ``compile`` (``.po`` → ``.mo``, shipped in the package). ``translate FILE.json`` merges
``{"msgid": "traduction"}`` (a list of forms for a plural entry; ``"context\u0004msgid"`` for
an entry with a context) into the French catalog —
what a translator or a helper script hands over. ``check`` lists what is untranslated, fuzzy,
obsolete or has broken placeholders; the test suite fails on any of it.
"""

from __future__ import annotations

import fcntl
import gettext as gettext_module
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from app.i18n.catalogs import DOMAINS, LOCALES_DIR
from app.i18n.speaker import LANGUAGES, SOURCE_LANGUAGE

ROOT = LOCALES_DIR.parent.parent
TRANSLATED = [language for language in LANGUAGES if language != SOURCE_LANGUAGE]
KEYWORDS: dict[str, Any] = {
    "messages": {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "pgettext": ((1, "c"), 2),
        "npgettext": ((1, "c"), 2, 3),
        "N_": None,
        "say": None,
        "say_n": (1, 2),
    },
    "js": {"t": None, "tn": (1, 2)},
}
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
MAPPING = {"messages": "babel.cfg", "js": "babel-js.cfg"}
HEADER = "Parcours — {domain} ({language}). Edit the .po; `make i18n` rebuilds the rest."


def extract(domain: str) -> Catalog:
    """Every string marked for translation in the sources of ``domain``."""
    catalog = Catalog(project="Parcours", version="1.0", domain=domain, fuzzy=False)
    method_map, options_map = _mapping(domain)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS[domain],
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _mapping(domain: str) -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    from babel.messages.frontend import parse_mapping_cfg

    with (LOCALES_DIR / MAPPING[domain]).open() as config:
        return parse_mapping_cfg(config)


def po_path(language: str, domain: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(language: str, domain: str) -> Catalog:
    path = po_path(language, domain)
    if not path.exists():
        return Catalog(locale=language, domain=domain, fuzzy=False)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    # The .po keeps no dates (they would change on every run); without this Babel would stamp
    # the time of reading into every compiled .mo, which then differs at each compile.
    catalog.creation_date = catalog.revision_date = STABLE_DATE
    return catalog


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=100,
        no_location=False,
        omit_header=False,
        sort_output=True,
        include_lineno=False,
        ignore_obsolete=True,
    )
    text = buffer.getvalue().decode()
    # The header's dates change on every run; keep the file stable between runs.
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(('"POT-Creation-Date', '"PO-Revision-Date', '"Generated-By'))
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def locked() -> Iterator[None]:
    """One writer of the catalogs at a time (several helpers may run ``translate``)."""
    LOCALES_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALES_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update() -> None:
    """Re-extract and bring each ``.po`` in line: new strings added untranslated, gone ones
    dropped, translations kept. No fuzzy guesses: a guess shown to users is worse than a gap
    the check reports."""
    for domain in DOMAINS:
        template = extract(domain)
        for language in TRANSLATED:
            catalog = read_catalog(language, domain)
            catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
            catalog.project, catalog.version = template.project, template.version
            catalog.last_translator = catalog.language_team = "Parcours"
            catalog.header_comment = "# " + HEADER.format(domain=domain, language=language)
            write_catalog(catalog, po_path(language, domain))


def compile_all() -> None:
    for domain in DOMAINS:
        for language in TRANSLATED:
            catalog = read_catalog(language, domain)
            with po_path(language, domain).with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)


def translate(pairs: dict[str, str | list[str]], domain: str = "messages") -> list[str]:
    """Merge translations into the French catalog; returns the msgids it does not hold."""
    catalog = read_catalog("fr", domain)
    unknown = []
    for msgid, translation in pairs.items():
        message = _find(catalog, msgid)
        if message is None:
            unknown.append(msgid)
            continue
        if message.pluralizable:
            forms = translation if isinstance(translation, list) else [translation]
            # CLDR gives French a third form (for millions, "de"): the plural serves there.
            forms = (forms + forms[-1:] * catalog.num_plurals)[: catalog.num_plurals]
            message.string = tuple(forms)
        else:
            message.string = translation if isinstance(translation, str) else translation[0]
        message.flags.discard("fuzzy")
    write_catalog(catalog, po_path("fr", domain))
    return unknown


def _find(catalog: Catalog, key: str) -> Message | None:
    """``"msgid"``, or ``"context\u0004msgid"`` (gettext's own separator) for an entry with a
    context; a plural entry is named by its singular."""
    context, _, msgid = key.rpartition("\u0004")
    found = catalog.get(msgid, context=context or None)
    if found is not None:
        return found
    for message in catalog:
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        if singular == msgid and message.id and message.context == (context or None):
            return message
    return None


def problems() -> list[str]:
    """What keeps the catalogs from being complete and true to the sources."""
    found: list[str] = []
    for domain in DOMAINS:
        extracted = {_key(message) for message in extract(domain) if message.id}
        for language in TRANSLATED:
            catalog = read_catalog(language, domain)
            held = {_key(message): message for message in catalog if message.id}
            where = f"{language}/{domain}.po"
            missing, stale = extracted - held.keys(), held.keys() - extracted
            found += [f"{where}: not in the catalog: {key!r}" for key in sorted(missing)]
            found += [f"{where}: no longer in the sources: {key!r}" for key in sorted(stale)]
            for key, message in held.items():
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if not all(strings):
                    found.append(f"{where}: untranslated: {key!r}")
                elif message.fuzzy:
                    found.append(f"{where}: fuzzy: {key!r}")
            for message, errors in catalog.check():
                found += [f"{where}: {_key(message)!r}: {error}" for error in errors]
            if not _compiled_matches(catalog, po_path(language, domain).with_suffix(".mo")):
                found.append(f"{where}: the compiled .mo differs from the .po (make i18n)")
    return found


def _compiled_matches(catalog: Catalog, mo: Path) -> bool:
    """The shipped .mo says what the .po says (read back, not compared byte for byte: another
    Babel release may lay the file out differently)."""
    if not mo.exists():
        return False
    expected = io.BytesIO()
    write_mo(expected, catalog, use_fuzzy=False)
    expected.seek(0)
    with mo.open("rb") as shipped:
        held = gettext_module.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
    return bool(held == gettext_module.GNUTranslations(expected)._catalog)  # type: ignore[attr-defined]


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return (message.context, str(msgid))


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    with locked():
        if command == "extract":
            update()
        elif command == "compile":
            compile_all()
        elif command == "translate":
            domain = argv[2] if len(argv) > 2 else "messages"
            pairs = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
            unknown = translate(pairs, domain)
            compile_all()
            for msgid in unknown:
                print(f"not in the {domain} catalog (run extract first?): {msgid!r}")
        elif command == "check":
            found = problems()
            print("\n".join(found) or "The catalogs are complete.")
            return 1 if found else 0
        else:
            print(__doc__)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
