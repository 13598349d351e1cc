"""Reading Segment's messages (identify, track, page, screen, group, alias): checked whole, with
the index and reason of each bad one, before anything is written (DESIGN §12.1).

Limits are Segment's: 32 KB per message, 500 KB per call (the route refuses a larger body).
Times: ``timestamp`` when given; else ``originalTimestamp`` moved by the client's clock skew
(``sentAt`` against our clock), as Segment does; else the time received — within the bounds of
every Parcours event (from 2000 to a day ahead).

The body of a batch is read once, with each message's size (``segment_json.py``); each event
is then checked by the event intake's own model (``EventIn``).
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
from app.services.capture.segment_json import NotJson, read_batch
from app.services.capture.segment_traits import contact_from_traits
from app.services.contacts.events import EARLIEST, MAX_FUTURE, EventContact, EventIn, ItemError
from app.services.contacts.fields import ContactData, FieldProblem, normalize_external_id

KINDS = ("identify", "track", "page", "screen", "group", "alias")
EVENT_NAMES = {"page": "page_view", "screen": "screen_view", "group": "group"}
MAX_MESSAGE_BYTES = 32 * 1024
MAX_ID = 100


@dataclass(slots=True)
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
    try:
        fields, items = read_batch(body, MAX_MESSAGE_BYTES)
    except NotJson as error:
        raise SegmentRefused(f"The call was refused: {error}.", []) from None
    if len(items) > max_messages:
        raise SegmentRefused(
            f"A batch holds at most {max_messages:,} messages; this one has {len(items):,}.", []
        )
    shared = fields.get("context")
    reader = _Reader(now, shared if isinstance(shared, dict) else {}, fields.get("sentAt"))
    messages: list[Message] = []
    first: dict[str, int] = {}
    for index, (item, too_large) in enumerate(items):
        reader.index = index
        if not isinstance(item, dict):
            reader.problem(None, "a message must be an object")
        elif too_large:
            reader.problem(None, "the message is larger than 32 KB")
        elif item.get("type") not in KINDS:
            reader.problem("type", "type must be one of " + ", ".join(KINDS))
        elif (parsed := reader.message(str(item["type"]), item)) is not None:
            seen = first.setdefault(parsed.message_id, index)
            if seen != index and items[seen][0] != item:
                reason = f"message {seen} of the batch has this messageId with different content"
                reader.problem("messageId", reason)
            messages.append(parsed)
    if reader.errors:
        bad = len({e.index for e in reader.errors})
        message = f"{bad} of {len(items)} messages are invalid; nothing was stored."
        raise SegmentRefused(message, reader.errors)
    return messages


def parse_single(kind: str, body: bytes, now: datetime) -> Message:
    if len(body) > MAX_MESSAGE_BYTES:
        raise SegmentRefused("The message is larger than 32 KB.", [])
    try:
        item = json.loads(body)
    except ValueError as error:
        raise SegmentRefused(f"The body is not valid JSON ({error}).", []) from None
    if not isinstance(item, dict):
        raise SegmentRefused("The body must be a JSON object: one message.", [])
    reader = _Reader(now, {}, None)
    parsed = reader.message(kind, item)
    if parsed is None or reader.errors:
        raise SegmentRefused("The message is invalid; nothing was stored.", reader.errors)
    return parsed


class _Reader:
    """Reads the messages of one call, collecting the problems of each."""

    def __init__(self, now: datetime, shared_context: dict[str, Any], sent_at: object) -> None:
        self.now = now
        self.shared_context = shared_context
        self.sent_at = sent_at
        self.index = 0
        self.errors: list[ItemError] = []
        self._languages: dict[str, str | None] = {}
        self._contacts: dict[str, EventContact] = {}

    def problem(self, field: str | None, reason: str) -> None:
        self.errors.append(ItemError(self.index, field, reason))

    def message(self, kind: str, item: dict[str, Any]) -> Message | None:
        known = len(self.errors)
        user_id = self._identifier(item.get("userId"), "userId")
        anonymous_id = self._identifier(item.get("anonymousId"), "anonymousId")
        context = item.get("context")
        if context is None:
            context = {}
        elif not isinstance(context, dict):
            self.problem("context", "context must be an object")
            context = {}
        if self.shared_context:
            context = {**self.shared_context, **context}
        message = Message(
            index=self.index,
            kind=kind,
            message_id=_message_id(item.get("messageId")),
            user_id=user_id,
            anonymous_id=anonymous_id,
            occurred_at=self._when(item),
            language=self._language(context.get("locale")),
        )
        if kind == "identify":
            traits = self._object(item, "traits")
            inner = context.get("traits")  # RudderStack puts identify's traits in the context
            if isinstance(inner, dict):
                traits = {**inner, **traits}
            message.contact = self._contact(traits, message.occurred_at, "")
            message.contact.external_id = user_id
            if user_id is None and anonymous_id is None and message.contact.email is None:
                self.problem("userId", "say who this is: userId, anonymousId or traits.email")
        elif kind == "alias":
            message.previous_id = self._identifier(item.get("previousId"), "previousId")
            if user_id is None or message.previous_id is None:
                self.problem("userId", "an alias needs both userId and previousId")
        else:
            if user_id is None and anonymous_id is None:
                self.problem("userId", "say who did it: userId or anonymousId")
            message.event = self._event(kind, item, message, context)
        return message if len(self.errors) == known else None

    def _identifier(self, value: object, name: str) -> str | None:
        if value is None or value == "":
            return None
        if type(value) is str and len(value) <= 255:
            return value.strip() or None  # the usual case, as normalize_external_id has it
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(name, f"{name} must be text")
            return None
        try:
            return normalize_external_id(str(value))
        except FieldProblem:
            self.problem(name, f"{name} is longer than 255 characters")
            return None

    def _when(self, item: dict[str, Any]) -> datetime:
        field = "timestamp" if item.get("timestamp") is not None else "originalTimestamp"
        raw = item.get(field)
        if raw is None:
            return self.now
        try:
            moment = _time(raw)
            if field == "originalTimestamp":
                sent = item.get("sentAt") or self.sent_at
                if sent is not None:
                    moment = self.now - (_time(sent) - moment)  # the client's clock skew
        except (ValueError, OverflowError):
            self.problem(field, f"{field} must be an ISO 8601 time like 2025-03-01T09:30:00Z")
            return self.now
        if moment > self.now + MAX_FUTURE:
            self.problem(field, f"{field} is more than a day in the future")
        elif moment < EARLIEST:
            self.problem(field, f"{field} is before the year 2000")
        return moment

    def _language(self, locale: object) -> str | None:
        if not isinstance(locale, str):
            return None
        if locale not in self._languages:
            self._languages[locale] = supported(locale) if len(locale) <= 35 else None
        return self._languages[locale]

    def _object(self, item: dict[str, Any], name: str) -> dict[str, Any]:
        value = item.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(name, f"{name} must be an object")
            return {}
        return value

    def _contact(self, traits: dict[str, Any], at: datetime, prefix: str) -> ContactData:
        data, problems = contact_from_traits(traits, at=at, prefix=prefix)
        for reason in problems:
            self.problem("traits", reason)
        return data

    def _event(
        self, kind: str, item: dict[str, Any], message: Message, context: dict[str, Any]
    ) -> EventIn | None:
        properties = self._object(item, "properties")
        if kind == "track":
            name = item.get("event")
            if not isinstance(name, str):
                self.problem("event", "event must be text: what was done, e.g. Order Completed")
                return None
        elif kind == "group":
            group_id = self._identifier(item.get("groupId"), "groupId")
            if group_id is None:
                self.problem("groupId", "a group call needs a groupId")
                return None
            traits = self._object(item, "traits")
            group = {"id": group_id, **traits}
            message.contact = self._contact(group, message.occurred_at, "group.")
            properties = {"group_id": group_id, "traits": traits}
            name = EVENT_NAMES[kind]
        else:
            name = EVENT_NAMES[kind]
            named = {k: item[k] for k in ("name", "category") if isinstance(item.get(k), str)}
            if named:
                properties = {**named, **properties}
        if "traits" in context:
            context = {k: v for k, v in context.items() if k != "traits"}
        if context and "context" not in properties:
            properties = {**properties, "context": context}  # context.page, campaign…: kept
        contact = self._event_contact(message.user_id) if message.user_id else None
        try:
            event = EventIn(
                id=message.message_id, name=name, contact=contact, occurred_at=message.occurred_at
            )
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                loc = error["loc"]
                field = "event" if loc[:1] == ("name",) else ".".join(map(str, loc))
                self.problem(field, str(error["msg"]).removeprefix("Value error, "))
            return None
        # Read from JSON, the properties already are a dict with text keys: assigned rather than
        # copied through the model (most of an event's checking time, for nothing).
        event.properties = properties
        return event

    def _event_contact(self, user_id: str) -> EventContact:
        """One checked EventContact per person of the call, shared by their events."""
        contact = self._contacts.get(user_id)
        if contact is None:
            contact = self._contacts[user_id] = EventContact(external_id=user_id)
        return contact


def _message_id(value: object) -> str:
    """The message's id, the event's uid: de-duplicates retries. Ids past the column's 100
    characters are replaced by a digest of themselves, so they still de-duplicate."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return uuid.uuid4().hex
    text = str(value)
    if len(text) <= MAX_ID:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
