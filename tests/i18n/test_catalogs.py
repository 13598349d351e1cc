"""The catalogs are complete and true to the sources: every string marked in Python, the
templates and the ES modules has a French translation (not fuzzy, same placeholders), the
compiled catalogs match, and no string shown to people is left unmarked."""

from __future__ import annotations

from app.i18n.catalog_tool import problems
from app.i18n.unmarked import all_problems


def test_every_marked_string_is_translated_and_compiled() -> None:
    found = problems()
    assert not found, f"{len(found)} catalog problems (fix the .po, then make i18n):\n" + "\n".join(
        found[:80]
    )


def test_every_string_shown_to_people_is_marked_for_translation() -> None:
    found = all_problems()
    assert not found, f"{len(found)} unmarked strings:\n" + "\n".join(found[:80])
