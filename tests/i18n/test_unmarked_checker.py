"""The unmarked-string check catches what it is for, and lets marked text and code through."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment

from app.i18n.unmarked import script_problems, template_problems

ENV = Environment(extensions=["jinja2.ext.i18n"])


def problems_of(tmp_path: Path, source: str, name: str = "page.html") -> list[str]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    if name.endswith(".js"):
        return list(script_problems(path))
    return list(template_problems(path, ENV))


def test_text_attributes_and_labels_in_expressions_are_caught(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        '<h1>Your contacts</h1>\n<input placeholder="Search by email">\n'
        '{{ "Many browsers" if n > 1 else "One browser" }}\n',
    )

    assert len(found) == 4, found
    assert "page.html:1: 'Your contacts'" in found[0]
    assert 'placeholder="Search by email"' in found[1]


def test_marked_text_code_and_names_pass(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        '<h1>{{ _("Your contacts") }}</h1>\n'
        "<p>{% trans n=3 %}You have {{ n }} contacts{% endtrans %}</p>\n"
        '<input placeholder="{{ _(\'Search\') }}" class="grow wide">\n'
        '<code>PARCOURS_SMTP_URL</code> <span translate="no">signed_up</span> SMS · CSV\n'
        '{{ icon("user") }} <script type="application/json">{"a": "Some text"}</script>\n',
    )

    assert found == []


def test_script_strings_must_go_through_t(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        'status.textContent = "Saving changes";\n'
        'label.textContent = t("Saved");\n'
        'el.className = "button small";\n'
        'fetch(url, { headers: { "Content-Type": "application/json" } });\n',
        name="module.js",
    )

    assert len(found) == 1, found
    assert found[0].endswith("module.js:1: 'Saving changes'")
