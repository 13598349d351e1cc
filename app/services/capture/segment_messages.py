"""Reading Segment's messages (identify, track, page, screen, group, alias): checked whole, with
the index and reason of each bad one, before anything is written (DESIGN §12.1).

Limits are Segment's: 32 KB per message, 500 KB per call (the route refuses a larger body).
Times: ``timestamp`` when given; else ``originalTimestamp`` moved by the client's clock skew
(``sentAt`` against our clock), as Segment does; else the time received — within the bounds of
every Parcours event (from 2000 to a day ahead).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from app.i18n import supported
from app.services.capture.segment_traits import contact_from_traits
from app.services.contacts.events import (
    EARLIEST,
    MAX_FUTURE,
    EventContact,
    EventIn,
    ItemError,
)
from app.services.contacts.fields import ContactData, FieldProblem, normalize_external_id

KINDS = ("identify", "track", "page", "screen", "group", "alias")
EVENT_NAMES = {"page": "page_view", "screen": "screen_view", "group": "group"}
MAX_MESSAGE_BYTES = 32 * 1024
MAX_ID = 100


@dataclass
class Message:
    index: int
    kind: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    occurred_at: datetime
    event: EventIn | None = None  # what is stored as an event (track, page, screen, group)
    contact: ContactData | None = None  # identify's traits, group's attributes
    previous_id: str | None = None  # alias
    language: str | None = None  # context.locale, when Parcours speaks it


class SegmentRefused(Exception):
    """A call refused whole: 400 with each bad message's index and reason."""

    def __init__(self, message: str, errors: list[ItemError]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def parse_batch(body: bytes, now: datetime, *, max_messages: int) -> list[Message]:
    document = _json(body)
    if not isinstance(document, dict) or not isinstance(document.get("batch"), list):
        raise SegmentRefused('The body must be {"batch": [messages]}.', [])
    items = document["batch"]
    if len(items) > max_messages:
        raise SegmentRefused(
            f"A batch holds at most {max_messages:,} messages; this one has {len(items):,}.", []
        )
    shared = document.get("context")
    shared_context = shared if isinstance(shared, dict) else {}
    sent_at = document.get("sentAt")
    check_sizes = len(body) > MAX_MESSAGE_BYTES
    messages: list[Message] = []
    errors: list[ItemError] = []
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(ItemError(index, None, "a message must be an object"))
            continue
        if check_sizes and _size(item) > MAX_MESSAGE_BYTES:
            errors.append(ItemError(index, None, "the message is larger than 32 KB"))
            continue
        kind = item.get("type")
        if kind not in KINDS:
            reason = "type must be one of " + ", ".join(KINDS)
            errors.append(ItemError(index, "type", reason))
            continue
        parsed, problems = _message(index, str(kind), item, now, shared_context, sent_at)
        errors += problems
        if parsed is None:
            continue
        seen = first.setdefault(parsed.message_id, index)
        if seen != index and items[seen] != item:
            reason = f"message {seen} of the batch has this messageId with different content"
            errors.append(ItemError(index, "messageId", reason))
        messages.append(parsed)
    if errors:
        bad = len({e.index for e in errors})
        raise SegmentRefused(
            f"{bad} of {len(items)} messages are invalid; nothing was stored.", errors
        )
    return messages


def parse_single(kind: str, body: bytes, now: datetime) -> Message:
    item = _json(body)
    if not isinstance(item, dict):
        raise SegmentRefused("The body must be a JSON object: one message.", [])
    if len(body) > MAX_MESSAGE_BYTES:
        raise SegmentRefused("The message is larger than 32 KB.", [])
    parsed, problems = _message(0, kind, item, now, {}, None)
    if parsed is None or problems:
        raise SegmentRefused("The message is invalid; nothing was stored.", problems)
    return parsed


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise SegmentRefused(f"The body is not valid JSON ({error}).", []) from None


def _size(item: dict[str, Any]) -> int:
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())


def _message(
    index: int,
    kind: str,
    item: dict[str, Any],
    now: datetime,
    shared_context: dict[str, Any],
    batch_sent_at: object,
) -> tuple[Message | None, list[ItemError]]:
    problems: list[str] = []
    fields: list[str | None] = []

    def problem(field: str | None, reason: str) -> None:
        fields.append(field)
        problems.append(reason)

    user_id = _identifier(item.get("userId"), "userId", problem)
    anonymous_id = _identifier(item.get("anonymousId"), "anonymousId", problem)
    occurred = _when(item, batch_sent_at, now, problem)
    context = item.get("context", {})
    if not isinstance(context, dict):
        problem("context", "context must be an object")
        context = {}
    context = {**shared_context, **context}
    message = Message(
        index=index,
        kind=kind,
        message_id=_message_id(item.get("messageId")),
        user_id=user_id,
        anonymous_id=anonymous_id,
        occurred_at=occurred or now,
        language=_language(context.get("locale")),
    )
    if kind == "identify":
        traits = _object(item, "traits", problem)
        inner = context.get("traits")  # RudderStack puts identify's traits in the context
        traits = {**(inner if isinstance(inner, dict) else {}), **traits}
        message.contact = _contact(traits, message.occurred_at, "", problem)
        message.contact.external_id = user_id
        if user_id is None and anonymous_id is None and message.contact.email is None:
            problem("userId", "say who this is: userId, anonymousId or traits.email")
    elif kind == "alias":
        message.previous_id = _identifier(item.get("previousId"), "previousId", problem)
        if user_id is None or message.previous_id is None:
            problem("userId", "an alias needs both userId and previousId")
    else:
        if user_id is None and anonymous_id is None:
            problem("userId", "say who did it: userId or anonymousId")
        message.event = _event(kind, item, message, context, problem)
    errors = [ItemError(index, f, reason) for f, reason in zip(fields, problems, strict=True)]
    return (None if errors else message), errors


def _identifier(value: object, name: str, problem: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problem(name, f"{name} must be text")
        return None
    try:
        return normalize_external_id(str(value))
    except FieldProblem:
        problem(name, f"{name} is longer than 255 characters")
        return None


def _message_id(value: object) -> str:
    """The message's id, the event's uid: de-duplicates retries. Ids past the column's 100
    characters are replaced by a digest of themselves, so they still de-duplicate."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return uuid.uuid4().hex
    text = str(value)
    if len(text) <= MAX_ID:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        raise ValueError
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(
    item: dict[str, Any], batch_sent_at: object, now: datetime, problem: Any
) -> datetime | None:
    field = "timestamp" if item.get("timestamp") is not None else "originalTimestamp"
    raw = item.get(field)
    if raw is None:
        return now
    try:
        moment = _time(raw)
        assert moment is not None
        if field == "originalTimestamp":
            sent = item.get("sentAt") or batch_sent_at
            if sent is not None:
                sent_at = _time(sent)
                assert sent_at is not None
                moment = now - (sent_at - moment)  # the client's clock skew, corrected
    except (ValueError, OverflowError):
        problem(field, f"{field} must be an ISO 8601 time like 2025-03-01T09:30:00Z")
        return None
    if moment > now + MAX_FUTURE:
        problem(field, f"{field} is more than a day in the future")
        return None
    if moment < EARLIEST:
        problem(field, f"{field} is before the year 2000")
        return None
    return moment


def _language(locale: object) -> str | None:
    return supported(locale) if isinstance(locale, str) and len(locale) <= 35 else None


def _object(item: dict[str, Any], name: str, problem: Any) -> dict[str, Any]:
    value = item.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problem(name, f"{name} must be an object")
        return {}
    return value


def _contact(traits: dict[str, Any], at: datetime, prefix: str, problem: Any) -> ContactData:
    data, problems = contact_from_traits(traits, at=at, prefix=prefix)
    for reason in problems:
        problem("traits", reason)
    return data


def _event(
    kind: str, item: dict[str, Any], message: Message, context: dict[str, Any], problem: Any
) -> EventIn | None:
    properties = dict(_object(item, "properties", problem))
    if kind == "track":
        name = item.get("event")
        if not isinstance(name, str):
            problem("event", "event must be text: what the person did, e.g. Order Completed")
            return None
    elif kind == "group":
        group_id = _identifier(item.get("groupId"), "groupId", problem)
        if group_id is None:
            problem("groupId", "a group call needs a groupId")
            return None
        traits = _object(item, "traits", problem)
        message.contact = _contact(
            {"id": group_id, **traits}, message.occurred_at, "group.", problem
        )
        properties = {"group_id": group_id, "traits": traits}
        name = EVENT_NAMES[kind]
    else:
        name = EVENT_NAMES[kind]
        for key in ("name", "category"):
            if isinstance(item.get(key), str):
                properties.setdefault(key, item[key])
    kept = {k: v for k, v in context.items() if k != "traits"}
    if kept and "context" not in properties:
        properties["context"] = kept  # context.page, campaign, userAgent…: kept with the event
    contact = EventContact(external_id=message.user_id) if message.user_id else None
    try:
        return EventIn(
            id=message.message_id,
            name=name,
            contact=contact,
            properties=properties,
            occurred_at=message.occurred_at,
        )
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            field = "event" if error["loc"][:1] == ("name",) else ".".join(map(str, error["loc"]))
            problem(field, str(error["msg"]).removeprefix("Value error, "))
        return None
