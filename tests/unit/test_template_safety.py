"""The templates keep to the two rules that make user data harmless in a page (issue 12):

- JSON in an HTML attribute is single-quoted and goes through Jinja's escaping:
  ``'{{ value|tojson|forceescape }}'``.
  ``tojson`` alone escapes ``< > & '`` but not ``"``, so a double-quoted attribute could be
  closed by a condition value and a handler added after it.
- No inline script and no ``on…=`` handler: the Content-Security-Policy allows scripts from
  the server only (behaviours live in ``app/static/js``), so they would not run anyway.

Reading the template sources is enough: escaping is decided by how a value is written there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.templating import TEMPLATES_DIR

TEMPLATES = sorted(TEMPLATES_DIR.rglob("*.html"))
# An HTML start tag, Jinja expressions inside it included.
TAG = re.compile(r"<[a-zA-Z][^<>]*?(?:\{\{.*?\}\}[^<>]*?)*>", re.DOTALL)
EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def name(path: Path) -> str:
    return path.relative_to(TEMPLATES_DIR).as_posix()


def test_there_are_templates_to_check() -> None:
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("path", TEMPLATES, ids=name)
def test_json_in_attributes_is_escaped_by_jinja(path: Path) -> None:
    for tag in TAG.findall(path.read_text()):
        for expression in EXPRESSION.findall(tag):
            if "tojson" in expression:
                assert re.search(r"tojson\s*\|\s*forceescape", expression), (
                    f"{name(path)}: write JSON in an attribute as "
                    f'"{{{{ value|tojson|forceescape }}}}", not {{{{{expression}}}}}'
                )


@pytest.mark.parametrize("path", TEMPLATES, ids=name)
def test_no_inline_scripts_or_event_handlers(path: Path) -> None:
    source = path.read_text()
    for tag in TAG.findall(source):
        assert not HANDLER.search(tag), f"{name(path)}: inline handler in {tag[:80]}"
    for attributes in SCRIPT.findall(source):
        assert "src=" in attributes or 'type="application/json"' in attributes, (
            f"{name(path)}: inline <script{attributes}>: move it to app/static/js"
        )


@pytest.mark.parametrize("path", TEMPLATES, ids=name)
def test_nothing_is_marked_safe_in_templates(path: Path) -> None:
    assert not re.search(r"\|\s*safe\b", path.read_text()), f"{name(path)} uses |safe"
