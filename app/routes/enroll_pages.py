"""Enrolling by hand from the screens: the box on the manual trigger's panel, on a contact's
page and on a list's page (``_enroll_box.html`` loads it), the count shown before confirming,
and the confirmation. The same rules and counts as the API (``manual_enrollment``).

The box knows one side of the question from where it is shown — the scenario (canvas), or the
contact or list (their pages) — and asks the other: whom to enroll, or into which scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select
from starlette.datastructures import FormData, QueryParams

from app.deps import SessionDep, get_current_user
from app.graph.wording import format_duration
from app.i18n import _
from app.inputs import plain_digits
from app.models import Contact
from app.services.contacts.lists import all_lists, get_list
from app.services.contacts.segments import all_segments
from app.services.errors import Invalid, NotFound, ServiceError
from app.services.scenarios import manual_enrollment as manual
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
TEMPLATE = "enroll.html"
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Asked:
    """What the box's fields say: the scenario and whom (one of contact, list, segment)."""

    scenario_id: int | None = None
    contact_id: int | None = None
    list_key: str | None = None
    segment_key: str | None = None
    email: str | None = None

    def target(self) -> manual.Target:
        return manual.Target(
            (self.contact_id,) if self.contact_id is not None else (),
            self.list_key,
            self.segment_key,
        )

    def fields(self) -> dict[str, str]:
        """The hidden fields that carry this choice to the confirmation."""
        values = {
            "scenario": self.scenario_id,
            "contact": self.contact_id,
            "list": self.list_key,
            "segment": self.segment_key,
        }
        return {k: str(v) for k, v in values.items() if v is not None}


def _id(raw: str | None, unknown: str) -> int | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not plain_digits(text) or int(text) > MAX_ID:
        raise Invalid(unknown)
    return int(text)


def _text(raw: str | None) -> str | None:
    text = (raw or "").strip()
    return text[:320] or None


def read_asked(values: QueryParams | FormData) -> Asked:
    """The fields as sent; a ``who`` choice ("list:KEY", "segment:KEY", "email") from the
    canvas box picks the target."""

    def get(name: str) -> str | None:
        value = values.get(name)
        return value if isinstance(value, str) else None

    list_key, segment_key, email = _text(get("list")), _text(get("segment")), None
    who = _text(get("who"))
    if who is not None:
        kind, _sep, key = who.partition(":")
        if kind == "list" and key:
            list_key = key
        elif kind == "segment" and key:
            segment_key = key
        elif kind == "email":
            email = _text(get("email"))
            if email is None:
                raise Invalid(_("Type the email address of the contact to enroll."))
        else:
            raise Invalid(_("Choose whom to enroll."))
    return Asked(
        scenario_id=_id(get("scenario"), _("This scenario is not known.")),
        contact_id=_id(get("contact"), _("This contact is not known.")),
        list_key=list_key,
        segment_key=segment_key,
        email=email,
    )


def _by_email(session: Session, asked: Asked) -> Asked:
    if asked.email is None:
        return asked
    found = session.exec(
        select(Contact.id).where(col(Contact.email) == asked.email.lower())
    ).first()
    if found is None:
        raise NotFound(_("No contact has the email address %(email)s.") % {"email": asked.email})
    return Asked(scenario_id=asked.scenario_id, contact_id=found)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def _answer(request: Request, error: ServiceError) -> HTMLResponse:
    return render(
        request, TEMPLATE, {"error": error.message}, block="answer", status_code=error.status_code
    )


def _target_words(resolved: manual.Resolved) -> dict[str, Any]:
    """What the sentences name: the list, the segment or the contact."""
    if resolved.contact_list is not None:
        return {"kind": "list", "name": resolved.contact_list.name}
    if resolved.segment is not None:
        return {"kind": "segment", "name": resolved.segment.name}
    contact = resolved.contact
    name = (
        contact.email or " ".join(filter(None, [contact.first_name, contact.last_name]))
        if contact
        else ""
    )
    return {"kind": "contact", "name": name or _("this contact")}


def _rule(entry: manual.ManualEntry) -> dict[str, str]:
    """Which re-entry rule keeps contacts out, for the sentence that says why."""
    settings = entry.plan.settings
    if settings.reentry in ("once", "after_exit"):
        return {"rule": settings.reentry}
    return {"rule": "cooldown", "wait": format_duration(settings.cooldown_seconds or 0)}


@router.get("/enroll")
def box(request: Request, session: SessionDep) -> HTMLResponse:
    """The box: from the canvas (``scenario``), a contact's page (``contact``) or a list's
    page (``list``)."""
    try:
        asked = read_asked(request.query_params)
        context: dict[str, Any] = {"asked": asked, "fixed": asked.fields()}
        if asked.scenario_id is not None:
            context["entry"] = manual.manual_entry(session, asked.scenario_id)
            context["lists"] = all_lists(session)
            context["segments"] = all_segments(session)
        else:
            if asked.list_key is not None:
                context["list"] = get_list(session, asked.list_key)
            elif asked.contact_id is None or session.get(Contact, asked.contact_id) is None:
                raise NotFound(_("This contact is not known."))
            context["scenarios"] = manual.manual_scenarios(session)
    except ServiceError as error:
        return render(
            request, TEMPLATE, {"unavailable": error.message}, block="box", status_code=200
        )
    return render(request, TEMPLATE, context, block="box")


@router.get("/enroll/preview")
def preview(request: Request, session: SessionDep) -> HTMLResponse:
    """How many would enter and how many the re-entry rules keep out, with the button."""
    now = _now(request)
    if request.query_params.get("who") == "email" and not _text(request.query_params.get("email")):
        hint = _("Type the contact’s email address, then count.")
        return render(request, TEMPLATE, {"hint": hint}, block="answer")
    try:
        asked = _by_email(session, read_asked(request.query_params))
        if asked.scenario_id is None:
            raise Invalid(_("Choose a scenario."))
        entry = manual.manual_entry(session, asked.scenario_id)
        resolved = manual.resolve(session, asked.target(), now)
        counted = manual.preview(session, entry, resolved, now)
    except ServiceError as error:
        return _answer(request, error)
    return render(
        request,
        TEMPLATE,
        {
            "entry": entry,
            "counted": counted,
            "what": _target_words(resolved),
            "fields": asked.fields(),
            **_rule(entry),
        },
        block="answer",
    )


@router.post("/enroll")
async def confirm(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> HTMLResponse:
    """Enrolls, under the re-entry rules; says how many entered and how many were skipped."""
    now = _now(request)
    try:
        asked = read_asked(await request.form())
        if asked.scenario_id is None:
            raise Invalid(_("Choose a scenario."))
        entry = manual.manual_entry(session, asked.scenario_id)
        resolved = manual.resolve(session, asked.target(), now)
        enrolled, refused = manual.enroll(session, entry, resolved, now)
    except ServiceError as error:
        return _answer(request, error)
    if enrolled:  # after the request's transaction has committed
        background.add_task(request.app.state.queue.kick, "advance")
    return render(
        request,
        TEMPLATE,
        {
            "entry": entry,
            "enrolled": enrolled,
            "refused": refused,
            "what": _target_words(resolved),
        },
        block="answer",
    )
