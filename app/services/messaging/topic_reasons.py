"""The words of a marketing email not sent because its contact left its topic.

Stored in English with the topic's name in it (the step detail's ``text``, the outbox row's
``last_error``), as every reason is; the step detail also holds the phrase, and the outbox
sentence is read back by its beginning (``sentence``), so both read in the reader's language.
``not_sent.py`` counts them as the category ``left_topic``.
"""

from __future__ import annotations

from typing import Any

from app.i18n import N_, gettext, say

STEP_TEXT = N_("left the topic “%(topic)s” → not sent")
OUTBOX_TEXT = N_("Not sent: the contact left the topic “%(topic)s”.")
STEP_PREFIX = "left the topic “"
OUTBOX_PREFIX = "Not sent: the contact left the topic “"
OUTBOX_END = "”."
CATEGORY = "left_topic"


def step_detail(topic_name: str) -> dict[str, Any]:
    """The engine's step detail for a send it skipped."""
    return {
        "text": STEP_TEXT % {"topic": topic_name},
        "say": say(STEP_TEXT, topic=topic_name).dump(),
    }


def outbox_reason(topic_name: str) -> str:
    """The delivery worker's (and the preference page's) reason on the outbox row."""
    return OUTBOX_TEXT % {"topic": topic_name}


def sentence(reason: str) -> str | None:
    """A stored outbox reason in the reader's words; None when it is not about a topic."""
    if not (reason.startswith(OUTBOX_PREFIX) and reason.endswith(OUTBOX_END)):
        return None
    name = reason[len(OUTBOX_PREFIX) : -len(OUTBOX_END)]
    return gettext(OUTBOX_TEXT) % {"topic": name}
