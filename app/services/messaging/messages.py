"""Message templates: saved by stable key, checked before they are saved, sent as tests.

A template that would not render (a typo in a placeholder, an unknown filter, a reach for
Python internals) is refused with the line and the reason, so a broken email never reaches
the outbox. Rendering itself happens at send time (``app/services/messaging/rendering.py``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.i18n import _, format_number
from app.models import Channel, MessagePurpose, MessageTemplate
from app.services.errors import Invalid, NotFound
from app.services.keys import check_key, free_key
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from app.services.messaging.rendering import MessageParts, check_template
from app.services.messaging.topics import check_topic_key
from app.services.scenarios.usage import drafts_warning, refuse_if_live, scenarios_using
from app.services.unique_rows import add_unique

EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
MAX_BODY = 500_000
MAX_ADDRESS = 320  # the columns' size


class MessageIn(BaseModel):
    """A message template as the API and the editor send it."""

    key: str = Field(
        default="",
        description="Stable key scenarios use, e.g. `welcome`; left out, it is derived from "
        "the name (`Clients fidèles` → `clients-fideles`).",
    )
    name: str = ""
    channel: Channel = Channel.email
    purpose: MessagePurpose = Field(
        default=MessagePurpose.marketing,
        description="`marketing` needs the contact's consent; `transactional` does not.",
    )
    subject: str = ""
    html: str = ""
    text: str = Field(default="", description="Plain-text body of an email, or the SMS text.")
    from_name: str | None = None
    from_email: str | None = None
    reply_to: str | None = None
    topic: str | None = Field(
        default=None,
        description="A marketing email's topic (a topic's key, e.g. `offers`): contacts who "
        "left it on the preference page do not get it. Left out: no topic.",
    )

    def parts(self) -> MessageParts:
        return MessageParts(
            channel=self.channel,
            subject=self.subject,
            html=self.html,
            text=self.text,
            key=self.key,
            name=self.name,
        )


def parts_of(template: MessageTemplate) -> MessageParts:
    return MessageParts(
        channel=template.channel,
        subject=template.subject,
        html=template.html,
        text=template.text,
        key=template.key,
        name=template.name,
    )


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def check_message(data: MessageIn) -> MessageIn:
    """The message, tidied; raises Invalid with what to fix, in plain words."""
    key = check_key(data.key)
    name = data.name.strip() or key.replace("-", " ").replace("_", " ").capitalize()
    check_name(name)
    values: dict[str, Any] = {"key": key, "name": name}
    for field in ("from_name", "from_email", "reply_to", "topic"):
        value = getattr(data, field)
        values[field] = None if _blank(value) else value.strip()
    _check_topic_fits(data, values["topic"])
    if data.channel == Channel.email:
        if _blank(data.subject):
            raise Invalid(_("An email needs a subject."))
        if len(data.subject) > 500:
            raise Invalid(_("The subject is too long (500 characters at most)."))
        if _blank(data.html) and _blank(data.text):
            raise Invalid(
                _("An email needs a body: write the HTML version, the plain text, or both.")
            )
        for field in ("from_email", "reply_to"):
            if values[field] is not None and not EMAIL.fullmatch(values[field]):
                raise Invalid(_address_problem(field, "invalid") % {"address": values[field]})
            if values[field] is not None and len(values[field]) > MAX_ADDRESS:
                raise Invalid(_address_problem(field, "long") % {"limit": MAX_ADDRESS})
        if values["from_name"] is not None and len(values["from_name"]) > 200:
            raise Invalid(_("The sender name is too long (200 characters at most)."))
    else:
        if _blank(data.text):
            raise Invalid(_("An SMS needs a text."))
        values.update(subject="", html="", from_name=None, from_email=None, reply_to=None)
    if max(len(data.html), len(data.text)) > MAX_BODY:
        raise Invalid(
            _("This message is too long (%(limit)s characters at most).")
            % {"limit": format_number(MAX_BODY)}
        )
    checked = data.model_copy(update=values)
    for item in checked.parts().fields():
        check_template(item)
    return checked


def _check_topic_fits(data: MessageIn, topic: str | None) -> None:
    """Topics sort marketing emails (DESIGN §12.3); whether the topic exists is checked when
    the message is saved."""
    if topic is None:
        return
    if data.channel != Channel.email:
        raise Invalid(_("An SMS has no topic: topics are for marketing emails."))
    if data.purpose != MessagePurpose.marketing:
        raise Invalid(_("A transactional email has no topic: it reaches every contact."))


def _address_problem(field: str, problem: str) -> str:
    """What is wrong with the sender or reply-to address, as one whole sentence."""
    if field == "from_email":
        if problem == "invalid":
            return _("The sender address “%(address)s” is not an email address.")
        return _("The sender address is too long (%(limit)s characters at most).")
    if problem == "invalid":
        return _("The reply-to address “%(address)s” is not an email address.")
    return _("The reply-to address is too long (%(limit)s characters at most).")


def check_name(name: str) -> str:
    if len(name) > 200:
        raise Invalid(_("The name is too long (200 characters at most)."))
    return name


def save_message(session: Session, data: MessageIn, now: datetime) -> tuple[MessageTemplate, bool]:
    """Creates or updates the template with this key; True when it was created. Without a
    key, a new one is derived from the name."""
    if not data.key.strip() and data.name.strip():
        data = data.model_copy(
            update={"key": free_key(session, col(MessageTemplate.key), data.name)}
        )
    checked = check_message(data)
    check_topic_key(session, checked.topic)
    template = find_message(session, checked.key)
    if template is None:
        template = MessageTemplate(key=checked.key, name=checked.name, created_at=now)
        _fill(template, checked, now)
        if add_unique(session, template):
            return template, True
        # Its topic was deleted a moment ago (the foreign key refused it): said as such.
        check_topic_key(session, checked.topic)
        # Created by another request a moment ago: this save updates it, as a later one would.
        template = get_message(session, checked.key)
    _fill(template, checked, now)
    try:
        with session.begin_nested():
            session.add(template)
            session.flush()
    except IntegrityError:
        check_topic_key(session, checked.topic)  # the topic went meanwhile: a 422, not a 500
        raise
    return template, False


def _fill(template: MessageTemplate, checked: MessageIn, now: datetime) -> None:
    for name, value in checked.model_dump().items():
        setattr(template, name, value)
    template.updated_at = now


def find_message(session: Session, key: str) -> MessageTemplate | None:
    return session.exec(select(MessageTemplate).where(MessageTemplate.key == key)).first()


def get_message(session: Session, key: str) -> MessageTemplate:
    template = find_message(session, key)
    if template is None:
        raise NotFound(_("There is no message with the key “%(key)s”.") % {"key": key})
    return template


def rename_message(
    session: Session, template: MessageTemplate, *, name: str, now: datetime
) -> MessageTemplate:
    """A new name; the key stays, so the scenarios that send it still find it."""
    name = name.strip()
    if not name:
        raise Invalid(_("Give the message a name, e.g. Welcome email."))
    template.name = check_name(name)
    template.updated_at = now
    session.add(template)
    session.flush()
    return template


def delete_message(session: Session, template: MessageTemplate) -> str | None:
    """Deletes the template (what was sent stays in the Mailbox and the statistics). Refused
    while a live scenario sends it; returns what the drafts that used it must know, if any."""
    usage = scenarios_using(session, "message", template.key)
    refuse_if_live(usage, template.name)
    session.delete(template)
    session.flush()
    return drafts_warning(usage)


def list_templates(session: Session) -> Sequence[MessageTemplate]:
    return session.exec(select(MessageTemplate).order_by(col(MessageTemplate.name))).all()


def queue_test_send(
    session: Session, data: MessageIn, *, to: str, contact_id: int | None, now: datetime
) -> str:
    """Puts a test of the editor's current content in the outbox, to ``to`` (the user),
    personalised for ``contact_id`` (None: the sample contact). Sent by the normal sender,
    without consent checks, tracking or a real unsubscribe link."""
    checked = check_message(data)
    key = f"test:{uuid.uuid4().hex}"
    payload = {
        "message": checked.key,
        "test": {"to": to, "contact_id": contact_id, "template": checked.model_dump(mode="json")},
    }
    add_to_outbox(
        session,
        [
            OutboxEntry(
                idempotency_key=key, channel=checked.channel.value, contact_id=None, payload=payload
            )
        ],
        now,
    )
    return key


def install_starters(session: Session, now: datetime) -> tuple[list[str], list[str]]:
    """Adds the starter messages that are missing; returns (created keys, kept keys)."""
    from app.message_templates import starters

    existing = set(
        session.exec(
            select(MessageTemplate.key).where(col(MessageTemplate.key).in_(list(starters())))
        ).all()
    )
    created: list[str] = []
    for starter in starters().values():
        if starter.key in existing:
            continue
        data = MessageIn(
            key=starter.key,
            name=starter.name,
            channel=Channel(starter.channel),
            purpose=MessagePurpose(starter.purpose),
            subject=starter.subject,
            html=starter.html,
            text=starter.text,
        )
        save_message(session, data, now)
        created.append(starter.key)
    return created, sorted(existing)
