"""Writing a checked Segment call (DESIGN §12.1), in the order that keeps intake fast.

1. ``prepare``: the people (identify, group), the anonymous links (identify, alias, and any
   message naming both a userId and an anonymousId), and the waiting anonymous events — only
   when the call has any; a batch of tracks by userId skips it entirely.
2. The events themselves go through the event intake's own bulk writer
   (``app/services/contacts/event_groups.py``), de-duplicated by ``messageId``.

``context.locale`` becomes the language of a contact that has none on ``identify``, where the
libraries say who someone is (a track's locale stays in the event's context): setting it from
every event would cost an UPDATE over every contact of every batch.

Each step is one transaction the route commits; both are idempotent, so a call retried after a
failure between the two ends in the same state as one that went through at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from app.services.capture.segment_links import (
    KnownLinks,
    link,
    linked_contacts,
    move_waiting,
    wait,
)
from app.services.capture.segment_messages import Message
from app.services.capture.segment_people import Person, upsert_people
from app.services.contacts.events import EventIn
from app.services.contacts.fields import ContactData


def needs_preparing(messages: Sequence[Message]) -> bool:
    return any(m.anonymous_id or m.contact is not None or m.kind == "alias" for m in messages)


def prepare(
    session: Session, messages: Sequence[Message], now: datetime, known: KnownLinks
) -> tuple[list[EventIn], dict[str, tuple[int, str | None]]]:
    """Writes the call's people, links and waiting events: the events left to store, and the
    links of the call (for ``known``, once committed)."""
    named = {m.anonymous_id for m in messages if m.anonymous_id}
    named |= {m.previous_id for m in messages if m.previous_id}
    remembered = known.get(named)
    linked = remembered | linked_contacts(session, named - remembered.keys())
    people = [m for m in messages if m.contact is not None]
    # The userIds to link or alias that no identify or group of the call names: found or
    # created by the same bulk upsert, so that all the call's new contacts are one INSERT in
    # key order (two INSERTs each in order can still deadlock with another call's, PostgreSQL).
    named_people = {m.user_id for m in people if m.user_id}
    wanted = sorted(
        {
            m.user_id
            for m in messages
            if m.user_id
            and m.user_id not in named_people
            and (
                m.kind == "alias"
                or (m.anonymous_id and linked.get(m.anonymous_id, (0, None))[1] != m.user_id)
            )
        }
    )
    persons = [_person(m, linked) for m in people]
    persons += [Person(ContactData(external_id=user_id)) for user_id in wanted]
    found = upsert_people(session, persons, now)
    contact_of = {m.index: cid for m, cid in zip(people, found, strict=False) if cid}
    by_external = {u: cid for u, cid in zip(wanted, found[len(people) :], strict=True) if cid}
    new_links: dict[str, tuple[int, str | None]] = {}
    for message in messages:
        cid = contact_of.get(message.index) or by_external.get(message.user_id or "")
        if cid is None:
            continue
        for anonymous_id in (message.anonymous_id, message.previous_id):
            if anonymous_id and linked.get(anonymous_id, (0, None))[0] != cid:
                new_links[anonymous_id] = (cid, message.user_id)
    link(session, {a: cid for a, (cid, _) in new_links.items()}, now)
    linked |= new_links
    links = {a: cid for a, (cid, _) in linked.items()}
    # What waits under ids remembered as linked was moved when they were: not looked for again.
    move_waiting(session, {a: c for a, c in links.items() if a not in remembered}, now)
    events: list[EventIn] = []
    waiting: list[tuple[str, EventIn]] = []
    for message in messages:
        event = message.event
        if event is None:
            continue
        if message.user_id:
            events.append(event)
        elif message.anonymous_id in links:
            contact_id = links[message.anonymous_id]
            events.append(event.model_copy(update={"contact_id": contact_id}))
        elif message.anonymous_id:
            waiting.append((message.anonymous_id, event))
    wait(session, waiting, now)
    return events, linked


def _person(message: Message, linked: dict[str, tuple[int, str | None]]) -> Person:
    assert message.contact is not None
    message.contact.external_id = message.user_id
    language = message.language if message.kind == "identify" else None
    return Person(
        message.contact,
        linked=_linked(linked, message),
        anonymous_id=message.anonymous_id,
        language=language,
    )


def _linked(linked: dict[str, tuple[int, str | None]], message: Message) -> int | None:
    if message.user_id or not message.anonymous_id or message.anonymous_id not in linked:
        return None
    return linked[message.anonymous_id][0]
