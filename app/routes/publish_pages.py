"""The canvas's publish dialog (issue 16): before a changed draft of a live scenario goes live,
what changes and what becomes of the contacts already inside, as a server-rendered fragment
(``canvas/_publish_plan.html``). Its choices are sent back as they change and only their part
comes back, spelled out again; ``canvas/publish.js`` shows it and sends the answers as the
activation's ``migration`` (``POST /scenarios/{id}/activate``). The facts come from the API's
publish plan (``services/scenarios/publish_plan``), the words from ``publish_choices``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.deps import SessionDep, get_current_user
from app.i18n import _, format_number, ngettext
from app.inputs import Int32
from app.models import Scenario
from app.services.errors import Invalid, ServiceError
from app.services.scenarios import existing_contacts
from app.services.scenarios.migration import Action, Timers
from app.services.scenarios.publish_choices import Answer, Choices, choices
from app.services.scenarios.publish_plan import PublishPlan, publish_plan
from app.services.scenarios.scenarios import get_scenario
from app.templating import render

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)

MAX_HELD = 1_000  # the activation's own bound on a migration's blocks


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def asked(request: Request) -> tuple[dict[str, Answer], Timers]:
    """The dialog's answers as sent (``node`` repeated, then ``action-<i>`` and ``to-<i>`` by
    position); a value the dialog never offers is Invalid."""
    query = request.query_params
    answers: dict[str, Answer] = {}
    for index, node_id in enumerate(query.getlist("node")[:MAX_HELD]):
        raw = query.get(f"action-{index}", Action.stay.value)
        try:
            action = Action(raw)
        except ValueError:
            raise Invalid(_("Choose what becomes of the contacts in each block.")) from None
        answers[node_id] = Answer(action, query.get(f"to-{index}") or None)
    try:
        timers = Timers(query.get("timers", Timers.keep.value))
    except ValueError:
        raise Invalid(_("Choose whether moved contacts keep their wake-up time.")) from None
    return answers, timers


def _plan(session: Session, scenario_id: int) -> tuple[Scenario, PublishPlan] | None:
    """The plan, or None when publishing changes nobody's journey: no live version yet, or a
    draft that is the live version (the canvas then activates as it always did)."""
    scenario = get_scenario(session, scenario_id)
    plan = publish_plan(session, scenario_id)
    if plan.from_version is None or plan.to_version == plan.from_version:
        return None
    return scenario, plan


def _context(
    request: Request, session: Session, scenario: Scenario, plan: PublishPlan
) -> dict[str, Any]:
    answers, timers = asked(request)
    picked: Choices = choices(session, scenario, plan, answers, timers, _now(request))
    return {"scenario": scenario, "plan": plan, "choices": picked}


def _existing(
    session: Session, scenario: Scenario, now: datetime
) -> existing_contacts.Existing | None:
    """Contacts already there who match a trigger and would enter too, when there are any:
    the dialog asks about them as the first activation did."""
    try:
        draft = existing_contacts.draft_plan(session, scenario)
        found = existing_contacts.existing(session, scenario, draft, now) if draft else None
    except ServiceError:
        return None  # a segment that cannot be evaluated: the activation says why
    return found if found is not None and found.count else None


def _existing_question(found: existing_contacts.Existing | None) -> dict[str, Any]:
    """The question the first activation asks (canvas/existing.js), in the same words."""
    if found is None:
        return {"existing": None}
    count, first = found.count, found.sources[0]
    only = len({(s.kind, s.name) for s in found.sources}) == 1
    shown = {"count": format_number(count), "name": first.name}
    if only and first.kind == "list":
        question = ngettext(
            "Also let in the %(count)s contact already in the list “%(name)s”?",
            "Also let in the %(count)s contacts already in the list “%(name)s”?",
            count,
        )
    elif only and first.kind == "segment":
        question = ngettext(
            "Also let in the %(count)s contact already in the segment “%(name)s”?",
            "Also let in the %(count)s contacts already in the segment “%(name)s”?",
            count,
        )
    elif only and first.kind == "attribute":
        question = ngettext(
            "Also let in the %(count)s contact whose “%(name)s” already matches?",
            "Also let in the %(count)s contacts whose “%(name)s” already matches?",
            count,
        )
    else:
        question = ngettext(
            "Also let in the %(count)s contact who already matches a trigger of this scenario?",
            "Also let in the %(count)s contacts who already match a trigger of this scenario?",
            count,
        )
    return {
        "existing": found,
        "existing_question": question % shown,
        "max_per_hour": existing_contacts.MAX_PER_HOUR,
        # As the first activation suggests: a tenth of them an hour.
        "suggested_rate": min(max(-(-count // 10), 1), existing_contacts.MAX_PER_HOUR),
    }


@router.get("/scenarios/{scenario_id}/publish-dialog", response_model=None)
def dialog(scenario_id: Int32, request: Request, session: SessionDep) -> Response:
    """The whole dialog, or 204 when there is no plan to show."""
    try:
        found = _plan(session, scenario_id)
        if found is None:
            return Response(status_code=204)
        scenario, plan = found
        context = _context(request, session, scenario, plan)
    except ServiceError as exc:
        return _error(request, exc)
    issues = plan.issues
    context |= {
        "added": [(n, plan.names.get(n, n)) for n in plan.added],
        "changed": [(n, plan.names.get(n, n)) for n in plan.changed],
        "removed": [(n, plan.names.get(n, n)) for n in plan.removed],
        "errors": [i for i in issues if i.severity == "error"],
        "warnings": [i for i in issues if i.severity != "error"],
        **_existing_question(_existing(session, scenario, _now(request))),
        # What publish.js marks on the canvas's cards (ids only).
        "marks": {"added": plan.added, "changed": plan.changed},
    }
    return render(request, "canvas/_publish_plan.html", context)


@router.get("/scenarios/{scenario_id}/publish-dialog/choices", response_model=None)
def choices_part(scenario_id: Int32, request: Request, session: SessionDep) -> HTMLResponse:
    """The dialog's choices answered as sent, with their consequences said again."""
    try:
        found = _plan(session, scenario_id)
        if found is None:
            raise Invalid(_("There is nothing to decide any more: close this and publish."))
        context = _context(request, session, *found)
    except ServiceError as exc:
        return _error(request, exc)
    return render(request, "canvas/_publish_choices.html", context)


def _error(request: Request, exc: ServiceError) -> HTMLResponse:
    return render(
        request, "_error_alert.html", {"detail": exc.message}, status_code=exc.status_code
    )
