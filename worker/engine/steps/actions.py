"""Actions: messages and alerts go to the outbox; contact changes are written with the chunk."""

from __future__ import annotations

from typing import Any

from app.graph.coercion import as_number
from app.graph.conditions import BUILTIN_ATTRIBUTES
from app.i18n import say
from app.models import EnrollmentState, StepOutcome
from app.services.contacts.fields import FieldProblem, normalize_timezone
from app.services.messaging import topic_reasons
from app.services.messaging.outbox import OutboxEntry, step_key
from worker.engine.steps.group import Group, StepError
from worker.engine.steps.registry import executes
from worker.engine.visit import Visit

CHANNEL_FIELDS = {"email": ("email", "email_consent"), "sms": ("phone", "sms_consent")}


def _entry(group: Group, visit: Visit, channel: str, payload: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        idempotency_key=step_key(visit.id, visit.node_id, visit.seq),
        channel=channel,  # type: ignore[arg-type]
        contact_id=visit.contact_id,
        payload={**payload, "event": visit.context},
        scenario_id=visit.scenario_id,
        enrollment_id=visit.id,
        node_id=visit.node_id,
    )


@executes("action", "send_email", "send_sms")
def send_message(group: Group) -> None:
    """Queues the email or SMS; consent is checked now and again when it is sent."""
    key = group.config.message
    channel, purpose = group.chunk.message(key)
    wanted = "email" if group.block.kind == "send_email" else "sms"
    if channel != wanted:
        raise StepError(
            f"The message “{key}” is not {'an email' if wanted == 'email' else 'an SMS'}."
        )
    address_field, consent_field = CHANNEL_FIELDS[wanted]
    noun = "email address" if wanted == "email" else "phone number"
    if wanted == "email":
        no_address = say("no email address → not sent")
        no_consent = say("no consent to marketing emails → not sent")
    else:
        no_address = say("no phone number → not sent")
        no_consent = say("no consent to marketing SMS → not sent")
    # A marketing email's topic (DESIGN §12.3): a contact who left it is skipped.
    marketing_email = purpose == "marketing" and wanted == "email"
    topic = group.chunk.message_topic(key) if marketing_email else None
    for visit in group.visits:
        contact = group.chunk.contacts.get(visit.contact_id)
        if contact is None:
            continue
        if not getattr(contact, address_field):
            detail = {"text": f"no {noun} → not sent", "say": no_address.dump()}
            group.leave(visit, "out", StepOutcome.skipped, detail)
        elif wanted == "email" and (unreachable := _unreachable(contact, purpose)) is not None:
            group.leave(visit, "out", StepOutcome.skipped, unreachable)
        elif purpose == "marketing" and not getattr(contact, consent_field):
            text = f"no consent to marketing {'emails' if wanted == 'email' else 'SMS'} → not sent"
            group.leave(visit, "out", StepOutcome.skipped, {"text": text, "say": no_consent.dump()})
        elif topic is not None and group.chunk.left_topic(visit.contact_id, topic[0]):
            group.leave(visit, "out", StepOutcome.skipped, topic_reasons.step_detail(topic[1]))
        else:
            group.leave(visit, "out")
            group.book.outbox.append(_entry(group, visit, wanted, {"message": key}))


# The address refused mail for good (every email skipped, transactional too: it does not
# exist), or the person marked one as spam (marketing skipped); app/services/messaging/bounces.py.
BOUNCED_TEXT = "address bounced → not sent"
COMPLAINED_TEXT = "marked as spam → not sent"


def _unreachable(contact: Any, purpose: str) -> dict[str, Any] | None:
    status = contact.email_status
    if status == "bounced":
        return {"text": BOUNCED_TEXT, "say": say("address bounced → not sent").dump()}
    if status == "complained" and purpose == "marketing":
        return {"text": COMPLAINED_TEXT, "say": say("marked as spam → not sent").dump()}
    return None


@executes("action", "add_to_list")
def add_to_list(group: Group) -> None:
    list_id = group.chunk.list_id(group.config.list_key)
    for visit in group.visits:
        group.book.list_ops.append((visit.contact_id, list_id, group.config.list_key, True))
        group.leave(visit, "out")


@executes("action", "remove_from_list")
def remove_from_list(group: Group) -> None:
    list_id = group.chunk.list_id(group.config.list_key)
    for visit in group.visits:
        group.book.list_ops.append((visit.contact_id, list_id, group.config.list_key, False))
        group.leave(visit, "out")


# Built-in fields a scenario may set, and how a configured value becomes the column's value.
SETTABLE_FIELDS = {"first_name": str, "last_name": str, "phone": str, "timezone": str}
FIELD_LENGTHS = {"first_name": 200, "last_name": 200, "phone": 32, "timezone": 64}


@executes("action", "update_attribute")
def update_attribute(group: Group) -> None:
    name, config = group.config.attribute, group.config
    if name in BUILTIN_ATTRIBUTES and name not in SETTABLE_FIELDS:
        raise StepError(f"A scenario cannot change “{name}”; use a custom attribute.")
    convert = SETTABLE_FIELDS.get(name)
    value = convert(config.value) if convert and config.value is not None else config.value
    limit = FIELD_LENGTHS.get(name)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise StepError(f"“{name}” holds at most {limit} characters.")
    if name == "timezone" and config.value is not None:
        value = _time_zone(value)
    for visit in group.visits:
        contact = group.chunk.contacts.get(visit.contact_id)
        if contact is None:
            continue
        pending = group.book.attribute_writes.setdefault(visit.contact_id, {})
        if config.increment is None:
            pending[name] = value
        else:
            current = pending.get(name, _current(contact, name))
            if name in SETTABLE_FIELDS:
                raise StepError(f"“{name}” is text: it cannot be increased.")
            base = as_number(current)
            if current is not None and current != "" and base is None:
                raise StepError(f"“{name}” is {current!r}, not a number: it cannot be increased.")
            total = (base or 0) + config.increment
            pending[name] = int(total) if float(total).is_integer() else total
        group.leave(visit, "out")


def _time_zone(value: object) -> str:
    # The same zones as every intake path, so waits and birthdays never meet a made-up one.
    try:
        zone = normalize_timezone(value)
    except FieldProblem:
        raise StepError(
            "“timezone” must be a time zone like Europe/Paris or America/New_York."
        ) from None
    return zone or "UTC"


def _current(contact: Any, name: str) -> Any:
    if name in contact._mapping and name != "attributes":
        return contact._mapping[name]
    return (contact.attributes or {}).get(name)


@executes("action", "add_score")
def add_score(group: Group) -> None:
    for visit in group.visits:
        group.book.score_deltas[visit.contact_id] += group.config.points
        group.leave(visit, "out")


@executes("action", "notify_team")
def notify_team(group: Group) -> None:
    payload = {"to": group.config.to, "message": group.config.message}
    for visit in group.visits:
        group.leave(visit, "out")
        group.book.outbox.append(_entry(group, visit, "notify", payload))


@executes("action", "webhook")
def webhook(group: Group) -> None:
    config = group.config
    payload = {"url": config.url, "method": config.method, "body": config.body}
    for visit in group.visits:
        group.leave(visit, "out")
        group.book.outbox.append(_entry(group, visit, "webhook", payload))


@executes("action", "exit")
def exit_journey(group: Group) -> None:
    for visit in group.visits:
        group.end(visit, EnrollmentState.exited)
