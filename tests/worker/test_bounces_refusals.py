"""Which SMTP refusals are about the recipient's address (a bounce) and which are about us."""

from __future__ import annotations

import pytest

from app.services.messaging.refusals import Bounce, Stage, bounce_of


@pytest.mark.parametrize(
    ("code", "text", "stage", "expected"),
    [
        (550, "5.1.1 user unknown", "rcpt", "hard"),
        (550, "5.1.2 bad destination system address", "rcpt", "hard"),
        (550, "5.1.10 Recipient address has null MX", "rcpt", "hard"),
        (550, "5.2.1 The email account is disabled", "rcpt", "hard"),
        (550, "5.1.1 The mailbox does not exist", "data", "hard"),
        (552, "5.2.2 Mailbox full", "rcpt", "soft"),
        (452, "4.2.2 Mailbox full", "rcpt", "soft"),
        (450, "4.1.1 Recipient address rejected: try later", "rcpt", "soft"),
        # About us: our sender, our message, our reputation, our relay.
        (553, "5.1.7 Bad sender address syntax", "rcpt", None),
        (550, "5.1.8 Sender domain does not resolve", "rcpt", None),
        (552, "5.2.3 Message too long for this mailbox", "data", None),
        (552, "5.3.4 Message too big for system", "data", None),
        (550, "5.7.1 Relaying denied", "rcpt", None),
        (554, "5.7.1 Message rejected as spam", "data", None),
        (530, "5.7.0 Authentication required", "other", None),
        (550, "5.1.1 sender unknown", "sender", None),
        (451, "4.7.1 Greylisted, come back later", "rcpt", None),
        (421, "4.4.2 Timeout", "other", None),
        # No enhanced code: only a refusal of the recipient itself is read.
        (550, "No such user here", "rcpt", "hard"),
        (551, "User not local", "rcpt", "hard"),
        (452, "Insufficient system storage", "rcpt", "soft"),
        (554, "Transaction failed", "rcpt", None),
        (550, "Rejected", "data", None),
        (550, "", "rcpt", "hard"),
    ],
)
def test_a_refusal_is_a_bounce_only_when_it_is_about_the_address(
    code: int, text: str, stage: Stage, expected: Bounce | None
) -> None:
    assert bounce_of(code, text, stage) == expected
