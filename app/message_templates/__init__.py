"""The starter set: good-looking messages for the ready-made scenarios.

Each email is a body fragment (``<key>.html``) placed in the shared layout (``_layout.html``:
brand bar, mobile rules, and the footer with the one-click unsubscribe link, whose words are
each language's ``_footer.html``), plus its plain-text
version (``<key>.txt``). The CSS stays in a ``<style>`` block so it is easy to edit; it is
inlined for email clients when the message is sent (and in the preview).

English is written here; each other language has a folder of its own (``fr/``) with the same
files and a ``starters.json`` giving each starter's name, subject and preheader. Adding a
message there means writing it in every language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from app.i18n import current, supported
from app.i18n.speaker import SOURCE_LANGUAGE

FOLDER = Path(__file__).parent


def folder(language: str) -> Path:
    """Where the messages of ``language`` are written (English: this folder)."""
    return FOLDER if language == SOURCE_LANGUAGE else FOLDER / language


def layout(language: str = SOURCE_LANGUAGE, footer_file: str = "_footer.html") -> str:
    """The one layout (brand bar, mobile rules) with the footer words of ``language``
    (``_footer.html`` of its folder): only those words differ between languages. A
    transactional message has no unsubscribe link: its footer (``_footer_transactional.html``)
    says why it was sent instead."""
    footer = (folder(language) / footer_file).read_text().rstrip("\n")
    shared = (FOLDER / "_layout.html").read_text()
    return shared.replace("{lang}", language).replace("{footer}", footer)


@dataclass(frozen=True)
class Starter:
    key: str
    name: str
    channel: str
    subject: str = ""
    preheader: str = ""
    purpose: str = "marketing"
    scenario: str = ""  # the ready-made scenario it is written for
    language: str = SOURCE_LANGUAGE

    @property
    def html(self) -> str:
        if self.channel != "email":
            return ""
        fragment = (folder(self.language) / f"{self.key}.html").read_text().rstrip("\n")
        footer = "_footer_transactional.html" if self.purpose == "transactional" else "_footer.html"
        return (
            layout(self.language, footer)
            .replace("{preheader}", self.preheader)
            .replace("{content}", fragment)
        )

    @property
    def text(self) -> str:
        return (folder(self.language) / f"{self.key}.txt").read_text().strip() + "\n"


STARTERS = (
    Starter(
        "welcome",
        "Welcome",
        "email",
        subject="Welcome, {{ contact.first_name | default('there') }}!",
        preheader="Glad you are here — this is what to expect from us.",
        scenario="Welcome",
    ),
    Starter(
        "welcome-coupon",
        "Welcome coupon",
        "email",
        subject="A little something for your first order",
        preheader="10% off your first order, for the next 14 days.",
        scenario="Welcome",
    ),
    Starter(
        "birthday-coupon",
        "Birthday coupon",
        "email",
        subject="Happy birthday in advance, {{ contact.first_name | default('friend') }}!",
        preheader="A birthday treat: 15% off everything.",
        scenario="Birthday",
    ),
    Starter(
        "cart-reminder",
        "Cart reminder",
        "email",
        subject="You left something in your cart",
        preheader="We kept your items aside for you.",
        scenario="Abandoned cart",
    ),
    Starter(
        "cart-reminder-2",
        "Second cart reminder",
        "email",
        subject="Your cart will not wait forever",
        preheader="Free delivery if you order today.",
        scenario="Abandoned cart",
    ),
    Starter("cart-reminder-sms", "Cart reminder (SMS)", "sms", scenario="Abandoned cart"),
    Starter(
        "onboarding-tips",
        "Onboarding tips",
        "email",
        subject="3 tips to get the most out of your account",
        preheader="How our happiest customers use their account.",
        scenario="Onboarding",
    ),
    Starter(
        "we-miss-you",
        "We miss you",
        "email",
        subject="We miss you, {{ contact.first_name | default('friend') }} — here is 20% off",
        preheader="A lot has changed since your last visit.",
        scenario="Re-engagement",
    ),
    Starter(
        "loyal-coupon",
        "Loyal customer coupon",
        "email",
        subject="A thank-you gift for one of our best customers",
        preheader="25% off one order, only for you.",
        scenario="Loyal customer",
    ),
    Starter(
        "sales-alert",
        "Sale alert",
        "email",
        subject="Our sale starts now: up to 40% off",
        preheader="72 hours only — the best sizes go first.",
        scenario="Sales alert",
    ),
    Starter("sales-alert-sms", "Sale alert (SMS)", "sms", scenario="Sales alert"),
    # Sent by a signup form with double opt-in (app/services/capture/optin.py), holding the
    # link in ``event.properties.confirm_url``; transactional, as the person has not agreed yet.
    Starter(
        "signup-confirmation",
        "Signup confirmation",
        "email",
        subject="Please confirm your subscription",
        preheader="One click and you are in.",
        purpose="transactional",
        scenario="Confirm and welcome",
    ),
)


def starters(language: str | None = None) -> dict[str, Starter]:
    """The starter set in ``language`` (by default the current speaker's: a French user adds
    French messages), English where a language has none."""
    return _starters(supported(language) or current().language)


@lru_cache
def _starters(language: str) -> dict[str, Starter]:
    if language == SOURCE_LANGUAGE or not (folder(language) / "starters.json").is_file():
        return {starter.key: starter for starter in STARTERS}
    words = json.loads((folder(language) / "starters.json").read_text())
    return {
        starter.key: replace(starter, language=language, **words[starter.key])
        for starter in STARTERS
    }
