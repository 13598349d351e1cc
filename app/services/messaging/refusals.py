"""Whether a refusal of an email is about the recipient's address, or about us.

A 5xx is permanent, but not every permanent refusal means the address is dead: "relay
denied", "authentication required", "message too big" or a policy rejecting our content are
about the sender, and marking the recipient bounced for them would silence good addresses.
So the refusal is read by its enhanced status code (RFC 3463, ``class.subject.detail`` at the
start of the server's text) where there is one:

- ``x.1.y`` addressing (5.1.1 no such user, 5.1.2 no such domain, 5.1.10 null MX): the
  address — except 5.1.7 and 5.1.8, the *sender's* address;
- ``x.2.y`` mailbox (5.2.1 disabled): the address — except 5.2.2 "mailbox full", a soft
  bounce even as a 5xx (the person may empty it), and 5.2.3 "message too long", ours;
- any other subject (3 mail system, 4 routing, 5 protocol, 6 content, 7 policy and
  security): about us or passing; the send fails or is retried as the server says, and the
  address is left alone.

Without an enhanced code only a refusal of the recipient itself (at ``RCPT TO``) is read:
550, 551 and 553 name a mailbox that is not there (hard), 450, 452 and 552 one that cannot
take mail now (soft). At ``DATA`` without a code nobody can tell, so the address is left
alone; a refusal at ``MAIL FROM`` is about our sender address whatever its code.

The delivery worker reads its own SMTP refusals with it (``worker/delivery/smtp.py``), and
the providers' webhooks the replies they pass on (``webhook_formats/``).
"""

from __future__ import annotations

import re
from typing import Literal

Bounce = Literal["hard", "soft"]
Stage = Literal["rcpt", "data", "sender", "other"]

ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\d)")
SENDER_ADDRESS = {7, 8}  # x.1.7 bad sender's mailbox syntax, x.1.8 bad sender's system address
MAILBOX_FULL, MESSAGE_TOO_LONG = 2, 3
RCPT_HARD = {550, 551, 553}
RCPT_SOFT = {450, 452, 552}


def bounce_of(code: int, text: str, stage: Stage) -> Bounce | None:
    """``hard`` (the address does not take mail), ``soft`` (not now) or None (not about
    the address) for the server's reply ``code`` and ``text`` at ``stage``."""
    if stage == "sender":
        return None  # MAIL FROM refused: whatever the code says, it is about our address
    enhanced = ENHANCED.match(text or "")
    if enhanced is not None:
        klass, subject, detail = (int(part) for part in enhanced.groups())
        if klass == 2:
            return None
        if subject == 1 and detail not in SENDER_ADDRESS:
            return "hard" if klass == 5 else "soft"
        if subject == 2 and detail == MAILBOX_FULL:
            return "soft"
        if subject == 2 and detail != MESSAGE_TOO_LONG:
            return "hard" if klass == 5 else "soft"
        return None
    if stage != "rcpt":
        return None
    if code in RCPT_HARD:
        return "hard"
    if code in RCPT_SOFT:
        return "soft"
    return None
