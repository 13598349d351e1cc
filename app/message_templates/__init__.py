"""The starter set: good-looking messages for the ready-made scenarios.

Each email is a body fragment (``<key>.html``) placed in the shared layout (``_layout.html``:
brand bar, footer with the one-click unsubscribe link, mobile rules), plus its plain-text
version (``<key>.txt``). The CSS stays in a ``<style>`` block so it is easy to edit; it is
inlined for email clients when the message is sent (and in the preview).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Starter:
    key: str
    name: str
    channel: str
    subject: str = ""
    preheader: str = ""
    purpose: str = "marketing"
    scenario: str = ""  # the ready-made scenario it is written for

    @property
    def html(self) -> str:
        if self.channel != "email":
            return ""
        layout = (FOLDER / "_layout.html").read_text()
        fragment = (FOLDER / f"{self.key}.html").read_text().rstrip("\n")
        return layout.replace("{preheader}", self.preheader).replace("{content}", fragment)

    @property
    def text(self) -> str:
        return (FOLDER / f"{self.key}.txt").read_text().strip() + "\n"


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
)


@lru_cache
def starters() -> dict[str, Starter]:
    return {starter.key: starter for starter in STARTERS}
