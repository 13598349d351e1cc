"""Words shown to people that no one marked for translation: ``python -m app.i18n.unmarked``.

Reads the page templates (Jinja's own parser, so ``{% trans %}`` blocks and ``_()`` calls are
understood) and the ES modules, and lists text that would reach a page in English whatever the
reader's language. The test suite fails on any; this is how a forgotten string is caught the
day it is written, not by a French user.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes

APP = Path(__file__).resolve().parent.parent
TEMPLATES = APP / "templates"
SCRIPTS = APP / "static" / "js"
GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "hx-confirm", "label"}
# Words that are the same in every language Parcours speaks (names, acronyms, symbols).
SAME_EVERYWHERE = {
    "Parcours",
    "CSV",
    "SMS",
    "API",
    "URL",
    "JSON",
    "HTML",
    "ID",
    "OK",
    "Email",
    "E-mail",
    "Bearer",
    "htmx",
    "Jinja",
    "UTC",
    "PostgreSQL",
    "SQLite",
    "Redis",
    "SMTP",
    "CRM",
    "A/B",
    "Français",
    "English",
    "Segment",
    "MJML",
    "ISO",
    "IP",
    "Webhook",
    "Mailbox",
    "Score",
}
UNTRANSLATED_TAGS = {"script", "style", "code", "pre", "kbd", "samp"}
WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")


def looks_like_words(text: str) -> bool:
    """Prose, not code: a word a person reads, other than names that never change."""
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    words = [word for word in WORD.findall(text) if word not in SAME_EVERYWHERE]
    return bool(words)


def looks_like_label(value: str) -> bool:
    """A string constant in a template expression that is a label, not a key or a class:
    it has a capital, or several words."""
    stripped = value.strip()
    if not looks_like_words(stripped) or stripped.startswith(("/", "#", "http", ".", "%")):
        return False
    return bool(re.search(r"[A-Z][a-z]", stripped) or re.search(r"[a-z]{2,} [a-z]{2,}", stripped))


class _ShownText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, str]] = []
        # Inside <script>, <style>, <code> or translate="no": code and names, not words.
        self._hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNTRANSLATED_TAGS or ("translate", "no") in attrs:
            self._hidden.append(tag)
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value and looks_like_words(value):
                self.found.append((self.getpos()[0], f'{name}="{value}"'))

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and looks_like_words(data):
            self.found.append((self.getpos()[0], data.strip()))


def template_problems(path: Path, env: Environment) -> Iterator[str]:
    source = path.read_text(encoding="utf-8")
    where = _shown_path(path)
    parser = _ShownText()
    parser.feed(_html_without_jinja(source, env))
    parser.close()
    for line, text in parser.found:
        yield f"{where}:{line}: {text[:90]!r}"
    tree = env.parse(source, path.name, str(path))
    for node in _shown_constants(tree):
        yield f"{where}:{node.lineno}: {node.value[:90]!r} (in an expression)"


def _html_without_jinja(source: str, env: Environment) -> str:
    """The page's HTML with each ``{{ }}`` as a neutral mark and tags and trans blocks gone,
    lines kept, so the HTML parser sees whole tags and reports true line numbers."""
    out: list[str] = []
    in_trans = in_tag = False
    tag_words: list[str] = []
    for _line, kind, value in env.lex(source):
        if kind == "data":
            out.append("\n" * value.count("\n") if in_trans else value)
            continue
        out.append("\n" * value.count("\n"))
        if kind == "variable_begin" and not in_trans:
            out.append("\u00a7")
        elif kind == "block_begin":
            in_tag, tag_words = True, []
        elif kind == "name" and in_tag:
            tag_words.append(value)
        elif kind == "block_end" and in_tag:
            in_tag = False
            if tag_words[:1] == ["trans"]:
                in_trans = True
                out.append("\u00a7")
            elif tag_words[:1] == ["endtrans"]:
                in_trans = False
    return "".join(out)


def _shown_constants(tree: nodes.Template) -> Iterator[nodes.Const]:
    """String constants that reach the page: not arguments of gettext, icon(), url_for()…"""

    def walk(node: nodes.Node, inside_call: bool) -> Iterator[nodes.Const]:
        if isinstance(node, nodes.Call):
            return
        if isinstance(node, nodes.Filter | nodes.Test):
            # filter(…) arguments are options ("…", ", "), only the value filtered is shown
            if node.node is not None:
                yield from walk(node.node, inside_call)
            return
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            if looks_like_label(node.value):
                yield node
            return
        if isinstance(node, nodes.Compare | nodes.Getitem | nodes.Getattr):
            return  # keys and comparisons, not shown
        for child in node.iter_child_nodes():
            yield from walk(child, inside_call)

    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if not isinstance(child, nodes.TemplateData):
                yield from walk(child, False)
    for assign in tree.find_all(nodes.Assign):
        yield from walk(assign.node, False)


# A string literal that is UI text in an ES module: text set on the page or a label.
JS_STRING = re.compile(r"""(?<![\w$.])(?P<q>["'`])(?P<text>(?:\\.|(?!(?P=q)).)*?)(?P=q)""")
JS_MARKED = re.compile(r"""\b(?:t|tn)\(\s*$""")
# tn("…", — the plural of a marked message (the singular may hold "%(count)s").
JS_PLURAL = re.compile(r"""\btn\(\s*(["'`])(?:\\.|(?!\1).)*\1\s*,\s*$""")
# Literals that are code whatever their words: compared (key names, "ArrowDown"), object keys
# (header names, "Content-Type":), class lists, the "use strict" directive.
JS_COMPARED_BEFORE = re.compile(r"""[!=]==?\s*$""")
JS_COMPARED_AFTER = re.compile(r"""^\s*[!=]==?""")
JS_KEY_BEFORE = re.compile(r"""[{,]\s*$""")
JS_KEY_AFTER = re.compile(r"""^\s*:""")
JS_CLASSES = re.compile(
    r"""(?:\bclassName\s*=|\bclassList\.\w+\(|setAttribute\(\s*["']class["']\s*,|\bclass=)\s*$"""
)
# A key combination ("Ctrl+D", "Shift+Tab"): the same on every keyboard Parcours speaks to.
JS_SHORTCUT = re.compile(r"""^(?:Ctrl|Shift|Alt|Meta|Cmd)\+\S+$""")


def script_problems(path: Path) -> Iterator[str]:
    where = _shown_path(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("//", 1)[0] if not line.lstrip().startswith("*") else ""
        for match in JS_STRING.finditer(code):
            text = match.group("text")
            before, after = code[: match.start()], code[match.end() :]
            if JS_MARKED.search(before) or JS_PLURAL.search(before) or _is_code(before, after):
                continue
            if text == "use strict" or JS_SHORTCUT.match(text):
                continue
            if match.group("q") == "`" and "${" in text:
                text = re.sub(r"\$\{[^}]*\}", " ", text)
            if "<" in text or not _is_prose(text):
                continue
            yield f"{where}:{number}: {text[:90]!r}"


def _is_code(before: str, after: str) -> bool:
    """Where a literal stands says it is code: compared, an object key, a class list."""
    return bool(
        JS_COMPARED_BEFORE.search(before)
        or JS_COMPARED_AFTER.match(after)
        or (JS_KEY_BEFORE.search(before) and JS_KEY_AFTER.match(after))
        or JS_CLASSES.search(before)
    )


def _is_prose(text: str) -> bool:
    """Sentences and labels ("Save", "Drop a block here."), not selectors, keys or names."""
    if not looks_like_words(text) or re.search(r"^[a-z-]+$|^[a-z]+[A-Z]", text):
        return False
    # Selectors and paths: "#id", ".a .b", "g.link", "[data-x]", "a > b", "input:not(…)", "/x/y".
    if re.search(r"[#\[\]=>{}]|(?:^|[\s,(])[.:]\w|[a-z]:[a-z]|/\w|^\S*\w\.\w\S*$", text):
        return False
    return bool(re.match(r"[A-Z][a-z]", text.strip()) or re.search(r"\w \w", text))


def _shown_path(path: Path) -> Path:
    return path.relative_to(APP.parent) if path.is_relative_to(APP.parent) else path


def all_problems() -> list[str]:
    env = Environment(extensions=["jinja2.ext.i18n"])
    found: list[str] = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        found += template_problems(path, env)
    for path in sorted(SCRIPTS.rglob("*.js")):
        found += script_problems(path)
    return found


def main(argv: list[str]) -> int:
    found = all_problems()
    if argv:
        found = [line for line in found if any(line.startswith(prefix) for prefix in argv)]
    print("\n".join(found) or "Every string shown to people is marked for translation.")
    print(f"{len(found)} unmarked", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
