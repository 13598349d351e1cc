"""Contacts over the API: upsert, read, GDPR export and erasure (DESIGN §6)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from app.deps import SessionDep
from app.inputs import Int32, Int64
from app.routes.api.intake import wake_engine
from app.services.contacts import contacts, gdpr
from app.services.contacts import lists as list_service
from app.services.contacts import views as contact_views
from app.services.contacts.fields import FieldProblem, contact_data, normalize_email
from app.services.errors import Invalid
from app.services.messaging import topic_choices

router = APIRouter(tags=["contacts"])


def _not_a_bool(value: object) -> object:
    # Pydantic reads JSON true as the number 1; a score sent as true is a client's mistake.
    if isinstance(value, bool):
        raise ValueError("the score must be a whole number, not true or false")
    return value


class ContactIn(BaseModel):
    """Who the contact is (email or external_id), what we know, lists and consent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "lea@example.com",
                    "first_name": "Léa",
                    "attributes": {"orders_count": 2, "city": "Lyon"},
                    "lists": ["newsletter"],
                    "consent": {"email": {"granted": True, "source": "signup form"}},
                }
            ]
        },
    )

    email: str | None = None
    external_id: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birthday: date | str | None = None
    timezone: str | None = None
    language: str | None = Field(
        default=None,
        description="What the contact reads: fr, en (fr-FR is kept as fr); a language "
        "Parcours does not speak yet is kept, and the contact reads the workspace's language.",
    )
    score: Annotated[int | None, BeforeValidator(_not_a_bool)] = None
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="Custom attributes (text, number, true/false; null removes one). "
        "Built-in names (first_name, score, …) may also be given here.",
    )
    lists: list[str] = Field(default_factory=list, description="List keys to add the contact to")
    remove_from_lists: list[str] = Field(default_factory=list)
    consent: dict[str, Any] = Field(
        default_factory=dict,
        description='Per channel: true/false or {"granted": true, "source": "...", "at": "..."}',
    )
    topics: dict[str, StrictBool] = Field(
        default_factory=dict,
        description='Per topic key: false = left, true = in again, e.g. {"offers": false}. '
        "A contact who never chose is in every topic (DESIGN §12.3).",
    )


class ContactSaved(BaseModel):
    created: bool
    changed: list[str]
    suppressed: bool = Field(
        description="The email was erased on request earlier: consent was not granted."
    )
    contact: dict[str, Any]


@router.post("/contacts", response_model=ContactSaved, summary="Create or update a contact")
def upsert_contact(
    request: Request,
    response: Response,
    body: ContactIn,
    session: SessionDep,
    background: BackgroundTasks,
) -> ContactSaved:
    """Finds the contact by `email`, else `external_id`; creates it when unknown (201)."""
    now = request.app.state.clock.now()
    attributes = dict(body.attributes)
    for name in (
        "phone",
        "first_name",
        "last_name",
        "birthday",
        "timezone",
        "language",
        "score",
    ):
        value = getattr(body, name)
        if value is not None:
            attributes[name] = value
    try:
        data = contact_data(
            email=body.email,
            external_id=body.external_id,
            attributes=attributes,
            consent=body.consent,
            now=now,
            source="api",
        )
    except FieldProblem as problem:
        raise Invalid(f"The contact was refused: {problem}.") from None
    to_add = list(list_service.lists_by_keys(session, body.lists).values())
    to_remove = list(list_service.lists_by_keys(session, body.remove_from_lists).values())
    chosen_topics = topic_choices.by_keys(session, body.topics)
    result = contacts.upsert_contact(session, data, now=now, source="api")
    assert result.contact.id is not None
    topic_choices.choose(session, result.contact.id, chosen_topics, now=now, source="api")
    list_service.add_members(session, to_add, [result.contact.id], now=now, source="api")
    list_service.remove_members(session, to_remove, [result.contact.id], now=now)
    background.add_task(wake_engine, request.app)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return ContactSaved(
        created=result.created,
        changed=result.changed,
        suppressed=result.suppressed,
        contact=contact_views.contact_document(session, result.contact),
    )


@router.get("/contacts", summary="Find contacts by email, or page through all of them")
def find_contacts(
    session: SessionDep,
    email: str | None = None,
    before: Int32 | None = Query(default=None, description="Cursor: the last id of the page"),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    if email is not None:
        try:
            wanted = normalize_email(email)
        except FieldProblem as problem:
            raise Invalid(str(problem)) from None
        found = contacts.find_contact(session, email=wanted) if wanted else None
        items = [contact_views.contact_document(session, found)] if found else []
        return {"contacts": items, "next": None}
    page = contacts.contact_page(session, before=before, limit=limit)
    items = [contact_views.contact_document(session, c, with_enrollments=False) for c in page]
    next_cursor = page[-1].id if len(page) == limit else None
    return {"contacts": items, "next": next_cursor}


@router.get("/contacts/{contact_id}", summary="A contact with lists, score, consent, journeys")
def read_contact(contact_id: Int32, session: SessionDep) -> dict[str, Any]:
    return contact_views.contact_document(session, contacts.get_contact(session, contact_id))


@router.get("/contacts/{contact_id}/events", summary="The contact's timeline, newest first")
def contact_events(
    contact_id: Int32,
    session: SessionDep,
    before: Int64 | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    contacts.get_contact(session, contact_id)
    events = contact_views.timeline(session, contact_id, before=before, limit=limit)
    next_cursor = events[-1].id if len(events) == limit else None
    return {"events": [contact_views.event_json(e) for e in events], "next": next_cursor}


@router.get("/contacts/{contact_id}/journeys", summary="Every enrollment with its trace")
def contact_journeys(contact_id: Int32, session: SessionDep) -> dict[str, Any]:
    contacts.get_contact(session, contact_id)
    return {"journeys": contact_views.journeys(session, contact_id)}


@router.get("/contacts/{contact_id}/export", summary="GDPR: everything held about the contact")
def export_contact(request: Request, contact_id: Int32, session: SessionDep) -> dict[str, Any]:
    return gdpr.export_contact(session, contact_id, request.app.state.clock.now())


@router.delete("/contacts/{contact_id}", summary="GDPR: erase the contact and their data")
def erase_contact(request: Request, contact_id: Int32, session: SessionDep) -> dict[str, Any]:
    """Deletes the contact, their events, list memberships, journeys and messages. Only a hash
    of the email stays, so a later import does not bring them back into marketing."""
    return gdpr.erase_contact(session, contact_id, request.app.state.clock.now())
