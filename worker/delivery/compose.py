"""From claimed outbox rows to messages ready to leave: consent checked, templates rendered
with the contact as it is now, tracking and unsubscribe links added.

All reads for a chunk are a handful of queries (templates, contacts, their lists); a row
that cannot be sent (no consent, no address, a template that fails for this contact) gets
its outcome here, without being sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from app.config import Settings
from app.i18n import speaking
from app.i18n.speaker import supported
from app.models import MessagePurpose, MessageTemplate
from app.services.account.preferences import workspace_language
from app.services.messaging.composition import default_sender, finish_html, finish_text, sender_of
from app.services.messaging.messages import EMAIL, MessageIn, parts_of
from app.services.messaging.rendering import (
    SAMPLE_CONTACT,
    MessageParts,
    RenderContext,
    RenderError,
    contact_context,
    event_context,
    load_contact_contexts,
    render_parts,
    render_text,
)
from app.services.messaging.tracking import SendRef, Tracker
from app.services.messaging.unsubscribe import UnsubscribeLinks
from worker.delivery import outcomes
from worker.delivery.mime import Envelope, Person, build_email
from worker.delivery.outcomes import Outcome
from worker.delivery.sms import Sms
from worker.delivery.smtp import SendError
from worker.delivery.store import Claimed
from worker.delivery.topics_left import TopicsLeft
from worker.delivery.webhook import WebhookCall, webhook_body

CONTACTS = SQLModel.metadata.tables["contacts"]
NO_CONSENT = {
    "email": "Not sent: the contact has not agreed to receive marketing emails.",
    "sms": "Not sent: the contact has not agreed to receive marketing SMS.",
}

# Checked again at send (the engine did at the block): a bounced address gets nothing, not
# even a transactional email (it does not exist); one that complained gets no marketing.
UNREACHABLE = {
    "bounced": "Not sent: the address bounced.",
    "complained": "Not sent: the contact marked an email as spam.",
}


@dataclass
class EmailJob:
    row: Claimed
    envelope: Envelope
    mailbox: dict[str, Any]


@dataclass
class SmsJob:
    row: Claimed
    sms: Sms
    mailbox: dict[str, Any]


@dataclass
class WebhookJob:
    row: Claimed
    call: WebhookCall


@dataclass
class Prepared:
    decided: list[Outcome] = field(default_factory=list)
    emails: list[EmailJob] = field(default_factory=list)
    sms: list[SmsJob] = field(default_factory=list)
    webhooks: list[WebhookJob] = field(default_factory=list)


@dataclass(frozen=True)
class _Contact:
    context: dict[str, Any]
    email: str | None
    phone: str | None
    email_consent: bool
    sms_consent: bool
    language: str | None  # None: the workspace's contact language
    email_status: str | None = None  # bounced, complained (app/services/messaging/bounces.py)


class Composer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        secret = settings.resolved_secret_key()
        self.tracker = Tracker(settings.base_url, secret)
        self.unsubscribe = UnsubscribeLinks(settings.base_url, secret)
        self.sender = default_sender(settings.mail_from, settings.base_url)
        self.domain = urlsplit(settings.base_url).hostname or "parcours.local"
        self.language = "en"  # the workspace's contact language, read again by each prepare()
        self.topics = TopicsLeft()  # the chunk's contacts' topics left, read by each prepare()

    def message_id(self, key: str) -> str:
        # The idempotency key, made a valid Message-ID local part (":" is not allowed there).
        return f"<{quote(key, safe='-_.')}@{self.domain}>"

    def prepare(self, session: Session, rows: list[Claimed], now: datetime) -> Prepared:
        result = Prepared()
        # What a contact whose language is unknown (or not one Parcours speaks) reads.
        self.language = workspace_language(session)
        keys = {str(r.payload.get("message")) for r in rows if r.channel in {"email", "sms"}}
        templates = {
            t.key: t
            for t in session.exec(
                select(MessageTemplate).where(col(MessageTemplate.key).in_(keys))
            ).all()
        }
        contacts = self._contacts(session, rows)
        self.topics = TopicsLeft.read(session, rows, templates.values())
        for row in rows:
            try:
                self._one(row, templates, contacts, now, result)
            except RenderError as exc:
                # Retrying cannot help: the same template fails the same way for this contact.
                result.decided.append(outcomes.failed(row.id, f"Not sent: {exc}."))
            except SendError as exc:
                make = outcomes.failed if exc.permanent else outcomes.retry
                result.decided.append(make(row.id, exc.reason))
            except Exception as exc:
                # Whatever else one row raises stays with that row: the others of the chunk
                # are still sent. Tried again later, as the cause may be passing.
                result.decided.append(outcomes.retry(row.id, unexpected("prepared", exc)))
        return result

    def _contacts(self, session: Session, rows: list[Claimed]) -> dict[int, _Contact]:
        ids = {r.contact_id for r in rows if r.contact_id is not None}
        for r in rows:
            test_contact = (r.payload.get("test") or {}).get("contact_id")
            if isinstance(test_contact, int):
                ids.add(test_contact)
        contexts = load_contact_contexts(session, ids)
        columns = CONTACTS.c
        found = session.execute(
            sa_select(
                columns.id,
                columns.email,
                columns.phone,
                columns.email_consent,
                columns.sms_consent,
                columns.language,
                columns.email_status,
            ).where(columns.id.in_(list(ids)))
        ).all()
        return {
            cid: _Contact(
                contexts[cid], email, phone, bool(e_ok), bool(s_ok), supported(lang), status
            )
            for cid, email, phone, e_ok, s_ok, lang, status in found
            if cid is not None and cid in contexts
        }

    def _one(
        self,
        row: Claimed,
        templates: dict[str, MessageTemplate],
        contacts: dict[int, _Contact],
        now: datetime,
        result: Prepared,
    ) -> None:
        # Written to one contact in their language: the footer Parcours adds, for now.
        with speaking(self._language_of(row, contacts)):
            self._compose(row, templates, contacts, now, result)

    def _language_of(self, row: Claimed, contacts: dict[int, _Contact]) -> str:
        contact_id = row.contact_id
        test = row.payload.get("test")
        if isinstance(test, dict) and isinstance(test.get("contact_id"), int):
            contact_id = test["contact_id"]
        found = contacts.get(contact_id) if contact_id is not None else None
        return (found.language if found is not None else None) or self.language

    def _compose(
        self,
        row: Claimed,
        templates: dict[str, MessageTemplate],
        contacts: dict[int, _Contact],
        now: datetime,
        result: Prepared,
    ) -> None:
        if row.channel in {"email", "sms"} and row.payload.get("test"):
            self._test(row, contacts, now, result)
        elif row.channel in {"email", "sms"}:
            self._scenario_message(row, templates, contacts, now, result)
        elif row.channel == "notify":
            result.emails.append(self._notify(row, contacts, now))
        elif row.channel == "webhook":
            result.webhooks.append(self._webhook(row, contacts, now))
        else:
            result.decided.append(outcomes.failed(row.id, f"Unknown channel “{row.channel}”."))

    def _scenario_message(
        self,
        row: Claimed,
        templates: dict[str, MessageTemplate],
        contacts: dict[int, _Contact],
        now: datetime,
        result: Prepared,
    ) -> None:
        key = str(row.payload.get("message"))
        template = templates.get(key)
        if template is None or template.channel != row.channel:
            noun = "email" if row.channel == "email" else "SMS"
            result.decided.append(
                outcomes.failed(row.id, f"There is no {noun} with the key “{key}” any more.")
            )
            return
        contact = contacts.get(row.contact_id) if row.contact_id is not None else None
        if contact is None:
            result.decided.append(outcomes.skipped(row.id, "Not sent: the contact was deleted."))
            return
        marketing = template.purpose == MessagePurpose.marketing
        unreachable = (
            UNREACHABLE.get(contact.email_status or "") if row.channel == "email" else None
        )
        if unreachable is not None and (marketing or contact.email_status == "bounced"):
            result.decided.append(outcomes.skipped(row.id, unreachable))
            return
        consent = contact.email_consent if row.channel == "email" else contact.sms_consent
        if marketing and not consent:
            result.decided.append(outcomes.skipped(row.id, NO_CONSENT[row.channel]))
            return
        if marketing and row.channel == "email" and self.topics.left(row.contact_id, template):
            result.decided.append(outcomes.skipped(row.id, self.topics.reason(template)))
            return
        sender = sender_of(template.from_name, template.from_email, self.sender)
        if row.channel == "sms":
            if not contact.phone:
                result.decided.append(
                    outcomes.skipped(row.id, "Not sent: the contact has no phone number.")
                )
                return
            result.sms.append(
                self._sms(row, parts_of(template), contact.context, contact.phone, now)
            )
            return
        if not contact.email or not EMAIL.fullmatch(contact.email):
            result.decided.append(
                outcomes.skipped(row.id, "Not sent: the contact has no valid email address.")
            )
            return
        assert row.contact_id is not None
        ref = SendRef(row.key, row.contact_id, key, row.scenario_id, row.node_id)
        unsubscribe = (
            self.unsubscribe.url(row.contact_id, row.key, template.topic) if marketing else ""
        )
        result.emails.append(
            self._email(
                row,
                parts_of(template),
                contact.context,
                to=(str(contact.context.get("name", "")), contact.email),
                sender=sender,
                reply_to=template.reply_to,
                unsubscribe=unsubscribe,
                ref=ref,
                now=now,
            )
        )

    def _test(
        self, row: Claimed, contacts: dict[int, _Contact], now: datetime, result: Prepared
    ) -> None:
        test = row.payload["test"]
        data = MessageIn.model_validate(test["template"])
        found = contacts.get(test.get("contact_id")) if test.get("contact_id") else None
        context = found.context if found else contact_context(SAMPLE_CONTACT, ["Newsletter"])
        parts = data.parts()
        if row.channel == "sms":
            result.sms.append(self._sms(row, parts, context, str(test["to"]), now))
            return
        marketing = data.purpose == MessagePurpose.marketing
        job = self._email(
            row,
            parts,
            context,
            to=("", str(test["to"])),
            sender=sender_of(data.from_name, data.from_email, self.sender),
            reply_to=data.reply_to,
            unsubscribe=self.unsubscribe.url(None, row.key, data.topic) if marketing else "",
            ref=None,
            now=now,
            subject_prefix="[Test] ",
        )
        result.emails.append(job)

    def _context(
        self,
        row: Claimed,
        contact: dict[str, Any],
        now: datetime,
        sender: tuple[str, str],
        unsubscribe: str = "",
    ) -> RenderContext:
        return RenderContext(
            contact=contact,
            event=event_context(row.payload.get("event")),
            unsubscribe_url=unsubscribe,
            now=now,
            sender={"name": sender[0], "email": sender[1]},
        )

    def _email(
        self,
        row: Claimed,
        parts: MessageParts,
        contact: dict[str, Any],
        *,
        to: Person,
        sender: Person,
        reply_to: str | None,
        unsubscribe: str,
        ref: SendRef | None,
        now: datetime,
        subject_prefix: str = "",
    ) -> EmailJob:
        rendered = render_parts(parts, self._context(row, contact, now, sender, unsubscribe))
        subject = subject_prefix + rendered.subject
        html = finish_html(rendered.html, unsubscribe_url=unsubscribe) if rendered.html else ""
        if html and ref is not None:
            html = self.tracker.track_html(html, ref, keep=(unsubscribe,) if unsubscribe else ())
        text = finish_text(rendered.text, html=rendered.html, unsubscribe_url=unsubscribe)
        headers = [("Date", format_datetime(now)), ("Message-ID", self.message_id(row.key))]
        if unsubscribe:
            # RFC 8058: mail clients show "Unsubscribe" and POST to it in one click.
            headers.append(("List-Unsubscribe", f"<{unsubscribe}>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        envelope = build_email(
            sender=sender,
            to=to,
            subject=subject,
            text=text,
            html=html,
            headers=headers,
            reply_to=reply_to,
        )
        shown = dict(headers) | ({"Reply-To": reply_to} if reply_to else {})
        mailbox = self._mailbox_row(
            row, "email", display(to), display(sender), subject, html, text, shown, now
        )
        return EmailJob(row, envelope, mailbox)

    def _sms(
        self, row: Claimed, parts: MessageParts, contact: dict[str, Any], to: str, now: datetime
    ) -> SmsJob:
        sender = (self.settings.sms_from, "")
        rendered = render_parts(parts, self._context(row, contact, now, sender))
        text = rendered.text
        sms = Sms(to=to, sender=self.settings.sms_from, text=text, key=row.key)
        mailbox = self._mailbox_row(row, "sms", to, self.settings.sms_from, "", "", text, {}, now)
        return SmsJob(row, sms, mailbox)

    def _notify(self, row: Claimed, contacts: dict[int, _Contact], now: datetime) -> EmailJob:
        to = str(row.payload.get("to") or "").strip()
        if not EMAIL.fullmatch(to):
            raise SendError(
                f"The team alert address “{to}” is not an email address.", permanent=True
            )
        found = contacts.get(row.contact_id) if row.contact_id is not None else None
        context = self._context(row, found.context if found else {}, now, self.sender)
        values = context.as_dict(MessageParts(channel="email"))
        text = render_text(str(row.payload.get("message") or ""), values, "the team alert")
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        subject = f"Parcours alert: {first_line}"[:200]
        headers = [("Date", format_datetime(now)), ("Message-ID", self.message_id(row.key))]
        envelope = build_email(
            sender=self.sender, to=("", to), subject=subject, text=text, headers=headers
        )
        mailbox = self._mailbox_row(
            row, "notify", to, display(self.sender), subject, "", text, dict(headers), now
        )
        return EmailJob(row, envelope, mailbox)

    def _webhook(self, row: Claimed, contacts: dict[int, _Contact], now: datetime) -> WebhookJob:
        found = contacts.get(row.contact_id) if row.contact_id is not None else None
        context = self._context(row, found.context if found else {}, now, self.sender)
        values = context.as_dict(MessageParts(channel="webhook"))
        template = row.payload.get("body")
        rendered = render_text(str(template), values, "the webhook body") if template else None
        default = {
            "contact": context.contact,
            "event": context.event,
            "scenario_id": row.scenario_id,
            "block": row.node_id,
            "sent_at": now.isoformat(),
        }
        call = WebhookCall(
            url=str(row.payload.get("url") or ""),
            method=str(row.payload.get("method") or "POST"),
            body=webhook_body(rendered, default),
            key=row.key,
        )
        return WebhookJob(row, call)

    @staticmethod
    def _mailbox_row(
        row: Claimed,
        channel: str,
        to: str,
        sender: str,
        subject: str,
        html: str,
        text: str,
        headers: dict[str, str],
        now: datetime,
    ) -> dict[str, Any]:
        return {
            "outbox_id": row.id,
            "contact_id": row.contact_id,
            "channel": channel,
            "message_key": row.payload.get("message") if channel != "notify" else None,
            "to_address": to[:320],
            "from_address": sender[:400],
            "subject": subject[:500],
            "html": html,
            "text": text,
            "headers": headers,
            "created_at": now,
        }


def unexpected(step: str, exc: BaseException) -> str:
    """The reason kept on a row that failed in a way no one foresaw."""
    detail = str(exc) or type(exc).__name__
    return f"This message could not be {step} because of an unexpected error: {detail}"[:2000]


def display(who: Person) -> str:
    """``Name <address>`` as people read it (the wire form is encoded by ``mime``)."""
    name, addr = who
    return f"{name} <{addr}>" if name else addr
