"""Turning a rendered template into what lands in the inbox: the unsubscribe footer of
marketing emails, CSS inlined for email clients (css-inline), and a plain-text version.

The editor's preview and the sender both go through here, so the preview is what is sent.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import css_inline

from app.i18n import _

# Remote stylesheets are never fetched (a template must not make the server call out), and
# @media rules stay in a <style> block: they cannot be inlined, and mobile clients use them.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_BLOCKS = {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table", "hr"}

FOOTER_HTML = (
    '<div class="parcours-footer" style="text-align:center;font:12px/1.5 Arial,sans-serif;'
    'color:#8a8fa3;padding:24px 16px">{sentence}</div>'
)
FOOTER_LINK = '<a href="{url}" style="color:#8a8fa3;text-decoration:underline">{label}</a>'


def footer_html(unsubscribe_url: str) -> str:
    """The footer added to a marketing email without a link of its own, in the language spoken
    (the worker writes to each contact in theirs)."""
    link = FOOTER_LINK.format(
        url=escape(unsubscribe_url, quote=True), label=escape(_("Unsubscribe"))
    )
    sentence = escape(
        _("You receive this email because you signed up. %(unsubscribe)s in one click.")
    )
    return FOOTER_HTML.format(sentence=sentence.replace("%(unsubscribe)s", link))


def footer_text(unsubscribe_url: str) -> str:
    return "\n\n--\n" + _("Unsubscribe in one click: %(url)s") % {"url": unsubscribe_url}


def finish_html(html: str, *, unsubscribe_url: str = "") -> str:
    """Adds the unsubscribe footer when the template has no link of its own, then inlines CSS."""
    if unsubscribe_url and unsubscribe_url not in html:
        footer = footer_html(unsubscribe_url)
        found = list(_BODY_END.finditer(html))
        html = (
            html[: found[-1].start()] + footer + html[found[-1].start() :]
            if found
            else (html + footer)
        )
    if not html.strip():
        return html
    try:
        return _INLINER.inline(html)
    except ValueError:
        return html  # CSS the inliner cannot parse: send the HTML as written


def finish_text(text: str, *, html: str = "", unsubscribe_url: str = "") -> str:
    body = text.strip() or html_to_text(html)
    if unsubscribe_url and unsubscribe_url not in body:
        body += footer_text(unsubscribe_url)
    return body


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "head", "title"}:
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "head", "title"}:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self._href:
            if urlsplit(self._href).scheme in {"http", "https"}:
                self.parts.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A readable plain-text version of an HTML email, for templates that have none."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def default_sender(mail_from: str, base_url: str) -> tuple[str, str]:
    """(name, address) of the sender when a message sets none."""
    name, address = parseaddr(mail_from) if mail_from else ("", "")
    if not address:
        host = urlsplit(base_url).hostname or "localhost"
        address = f"no-reply@{host}"
    return name or "Parcours", address


def sender_of(
    from_name: str | None, from_email: str | None, default: tuple[str, str]
) -> tuple[str, str]:
    return (from_name or default[0], from_email or default[1])
