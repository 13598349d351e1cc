"""What "not sent" means, once, for the Mailbox, the statistics and the block counters.

A message is *not sent* when it will never go out to the contact:

- the engine decided so at the block (a step row ``skipped``: no address, no consent) — the
  outbox never sees these;
- or the delivery worker did, just before sending (an outbox row ``skipped``: consent
  withdrawn since, contact deleted, invalid address), or an unsubscribe cancelled it (an
  outbox row ``cancelled``).

The two never overlap: a step that was skipped queued nothing, and a step that queued a send
was recorded as done. Every reader goes through :func:`not_sent_rows`, one UNION ALL, and
groups it in SQL. Each row carries a reason, a short category of its stored English text
(``no_consent``, ``no_address``…), so a count reads "2 not sent: no consent" and the contacts
behind it can be listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, func, literal, null, select, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel

from app.i18n import N_, gettext
from app.services.messaging import topic_reasons

STEP_LOG = SQLModel.metadata.tables["step_log"]
OUTBOX = SQLModel.metadata.tables["outbox"]
ENROLLMENTS = SQLModel.metadata.tables["enrollments"]

NOT_SENT_OUTBOX = ("skipped", "cancelled")
MESSAGE_CHANNELS = ("email", "sms")

# Why, in a few words (shown after "N not sent:"), by category.
REASONS = {
    "no_consent": N_("no consent"),
    "no_address": N_("no address"),
    "unsubscribed": N_("unsubscribed"),
    "deleted": N_("contact deleted"),
    "capped": N_("over the frequency cap"),
    "bounced": N_("address bounced"),
    "complained": N_("marked as spam"),
    "left_topic": N_("left a topic"),
    "other": N_("other reason"),
}

# The stored English texts (step detail "text", outbox last_error) and their category. They
# are the engine's (worker/engine/steps/actions.py), the delivery worker's
# (worker/delivery/compose.py) and the unsubscribe's (messaging/unsubscribe.py); the full
# sentences are also msgids, so the reason reads in the reader's language.
KNOWN = {
    "no email address → not sent": "no_address",
    "no phone number → not sent": "no_address",
    "no consent to marketing emails → not sent": "no_consent",
    "no consent to marketing SMS → not sent": "no_consent",
    "Not sent: the contact has not agreed to receive marketing emails.": "no_consent",
    "Not sent: the contact has not agreed to receive marketing SMS.": "no_consent",
    "Not sent: the contact has no phone number.": "no_address",
    "Not sent: the contact has no valid email address.": "no_address",
    "Not sent: the contact was deleted.": "deleted",
    "Not sent: the contact unsubscribed.": "unsubscribed",
    # Held by the frequency caps (worker/delivery/pacing.py) for 3 days.
    "Not sent: over the frequency cap.": "capped",
    # Bounced and complained addresses (messaging/bounces.py), at the block and at send.
    "address bounced → not sent": "bounced",
    "marked as spam → not sent": "complained",
    "Not sent: the address bounced.": "bounced",
    "Not sent: the contact marked an email as spam.": "complained",
}
# Marked for the catalog: the delivery worker and the unsubscribe store these in English.
N_("Not sent: the contact has not agreed to receive marketing emails.")
N_("Not sent: the contact has not agreed to receive marketing SMS.")
N_("Not sent: the contact has no phone number.")
N_("Not sent: the contact has no valid email address.")
N_("Not sent: the contact was deleted.")
N_("Not sent: the contact unsubscribed.")
N_("Not sent: over the frequency cap.")
N_("Not sent: the address bounced.")
N_("Not sent: the contact marked an email as spam.")


# Reasons that name what the contact left (a topic's name), told apart by how they begin
# (messaging/topic_reasons.py).
BEGINNINGS = {
    topic_reasons.STEP_PREFIX: topic_reasons.CATEGORY,
    topic_reasons.OUTBOX_PREFIX: topic_reasons.CATEGORY,
}


def _category(text: Any) -> Any:
    by_category: dict[str, list[str]] = {}
    for known, category in KNOWN.items():
        by_category.setdefault(category, []).append(known)
    return case(
        *((text.in_(texts), literal(category)) for category, texts in by_category.items()),
        *((text.startswith(start, autoescape=True), literal(c)) for start, c in BEGINNINGS.items()),
        else_=literal("other"),
    )


def not_sent_rows(
    *,
    scenario_id: int | None = None,
    version_id: int | None = None,
    node_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """Every message that will not go out, as a subquery: ``scenario_id``, ``node_id``,
    ``enrollment_id``, ``contact_id``, ``at``, ``reason`` (the stored English text),
    ``category``, ``source`` ("step" or "outbox") and ``outbox_id`` (None for a step)."""
    step_text = STEP_LOG.c.detail["text"].as_string()
    steps: Select[Any] = select(
        STEP_LOG.c.scenario_id,
        STEP_LOG.c.node_id,
        STEP_LOG.c.enrollment_id,
        STEP_LOG.c.contact_id,
        STEP_LOG.c.at.label("at"),
        step_text.label("reason"),
        _category(step_text).label("category"),
        literal("step", String).label("source"),
        null().label("outbox_id"),
    ).where(STEP_LOG.c.outcome == "skipped")
    sends: Select[Any] = select(
        OUTBOX.c.scenario_id,
        OUTBOX.c.node_id,
        OUTBOX.c.enrollment_id,
        OUTBOX.c.contact_id,
        OUTBOX.c.created_at.label("at"),
        OUTBOX.c.last_error.label("reason"),
        _category(OUTBOX.c.last_error).label("category"),
        literal("outbox", String).label("source"),
        OUTBOX.c.id.label("outbox_id"),
    ).where(OUTBOX.c.status.in_(NOT_SENT_OUTBOX), OUTBOX.c.channel.in_(MESSAGE_CHANNELS))
    if scenario_id is not None:
        steps = steps.where(STEP_LOG.c.scenario_id == scenario_id)
        sends = sends.where(OUTBOX.c.scenario_id == scenario_id)
    if node_id is not None:
        steps = steps.where(STEP_LOG.c.node_id == node_id)
        sends = sends.where(OUTBOX.c.node_id == node_id)
    if version_id is not None:
        steps = steps.where(STEP_LOG.c.version_id == version_id)
        sends = sends.join(ENROLLMENTS, ENROLLMENTS.c.id == OUTBOX.c.enrollment_id).where(
            ENROLLMENTS.c.version_id == version_id
        )
    if since is not None:
        steps = steps.where(STEP_LOG.c.at >= since)
        sends = sends.where(OUTBOX.c.created_at >= since)
    if until is not None:
        steps = steps.where(STEP_LOG.c.at < until)
        sends = sends.where(OUTBOX.c.created_at < until)
    return union_all(steps, sends).subquery("not_sent")


def reason_words(category: str) -> str:
    """The category in the reader's words: "no consent"."""
    return gettext(REASONS.get(category, REASONS["other"]))


def sentence(reason: str | None) -> str:
    """A stored reason in the reader's words (its English when it is not a known one)."""
    if not reason:
        return gettext("no reason recorded")
    if reason in KNOWN:
        return gettext(reason)
    return topic_reasons.sentence(reason) or reason


@dataclass(frozen=True)
class NotSent:
    node_id: str
    category: str
    count: int

    @property
    def words(self) -> str:
        return reason_words(self.category)


def total(session: Session) -> int:
    """How many messages will never go out, in all (the Mailbox's "not sent")."""
    rows = not_sent_rows()
    return int(session.execute(select(func.count()).select_from(rows)).scalar_one())


def by_block(
    session: Session,
    scenario_id: int,
    *,
    version_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[NotSent]:
    """A scenario's messages not sent, per block and reason, the most frequent first."""
    rows = not_sent_rows(scenario_id=scenario_id, version_id=version_id, since=since, until=until)
    grouped = (
        select(rows.c.node_id, rows.c.category, func.count())
        .group_by(rows.c.node_id, rows.c.category)
        .order_by(func.count().desc(), rows.c.category)
    )
    return [NotSent(str(n or "?"), str(c), int(k)) for n, c, k in session.execute(grouped)]


def per_block(found: Iterable[NotSent]) -> dict[str, list[NotSent]]:
    blocks: dict[str, list[NotSent]] = {}
    for item in found:
        blocks.setdefault(item.node_id, []).append(item)
    return blocks


def enrollments_at(
    scenario_id: int, node_id: str, category: str | None = None, *, version_id: int | None = None
) -> Any:
    """The enrollments whose message at ``node_id`` was not sent (for the contacts list)."""
    rows = not_sent_rows(scenario_id=scenario_id, node_id=node_id, version_id=version_id)
    query = select(rows.c.enrollment_id).where(rows.c.enrollment_id.is_not(None))
    if category:
        query = query.where(rows.c.category == category)
    return query
