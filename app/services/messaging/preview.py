"""The editor's live preview: the message as a chosen (or the sample) contact will see it.

It goes through the same rendering and finishing (footer, inlined CSS) as a real send; only
the tracking of links is left out, so links in the preview lead where they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.i18n import _
from app.models import Channel, MessagePurpose
from app.services.errors import Invalid
from app.services.messaging.composition import finish_html, finish_text, sender_of
from app.services.messaging.messages import MessageIn
from app.services.messaging.rendering import (
    SAMPLE_CONTACT,
    SAMPLE_EVENT,
    RenderContext,
    RenderError,
    check_template,
    contact_context,
    event_context,
    load_contact_contexts,
    render_parts,
)
from app.services.messaging.sms_count import SmsCount, count_sms


@dataclass(frozen=True)
class Preview:
    channel: str
    who: str  # whom it is rendered for
    subject: str = ""
    sender: str = ""
    html: str = ""
    text: str = ""
    sms: SmsCount | None = None
    error: str | None = None


def preview_message(
    session: Session,
    data: MessageIn,
    *,
    contact_id: int | None,
    default_sender: tuple[str, str],
    unsubscribe_url: str,
    now: datetime,
) -> Preview:
    found = load_contact_contexts(session, [contact_id]) if contact_id else {}
    contact = found.get(contact_id) if contact_id else None
    if contact is None:
        contact = contact_context(SAMPLE_CONTACT, ["Newsletter", "Customers"])
        who = _("the sample contact (Léa Martin)")
    else:
        unnamed = _("contact #%(id)s") % {"id": contact_id}
        who = contact.get("name") or contact.get("email") or unnamed
    parts = data.parts()
    try:
        for item in parts.fields():
            check_template(item)
    except Invalid as exc:
        return Preview(channel=data.channel, who=who, error=exc.message)
    marketing = data.purpose == MessagePurpose.marketing
    sender = sender_of(data.from_name, data.from_email, default_sender)
    context = RenderContext(
        contact=contact,
        event=event_context(SAMPLE_EVENT),
        unsubscribe_url=unsubscribe_url if marketing else "",
        now=now,
        sender={"name": sender[0], "email": sender[1]},
    )
    try:
        rendered = render_parts(parts, context)
    except RenderError as exc:
        error = _("For %(who)s, %(problem)s") % {"who": who, "problem": exc.words()}
        return Preview(channel=data.channel, who=who, error=error)
    if data.channel == Channel.sms:
        return Preview(channel="sms", who=who, text=rendered.text, sms=count_sms(rendered.text))
    unsubscribe = context.unsubscribe_url
    html = finish_html(rendered.html, unsubscribe_url=unsubscribe) if rendered.html else ""
    return Preview(
        channel="email",
        who=who,
        subject=rendered.subject,
        sender=f"{sender[0]} <{sender[1]}>",
        html=html,
        text=finish_text(rendered.text, html=rendered.html, unsubscribe_url=unsubscribe),
    )
