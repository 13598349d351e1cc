"""Simulating a draft from the canvas (issue 15): the editor's *Simulate* form starts a run in
the worker, then its fragment is polled every second until the answer is in (it can be
stopped meanwhile), and lists each block's sample contacts, whose simulated journeys open on
the journey page marked simulated. The counts come from the same service as the API's
(``services/scenarios/simulations``); this module only reads the form and shapes the answer
for the page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.deps import SessionDep, get_current_user
from app.i18n import _
from app.inputs import Int32
from app.models import Simulation
from app.services.errors import Invalid, ServiceError
from app.services.messaging.not_sent import REASONS
from app.services.scenarios import simulations as service
from app.services.scenarios.scenarios import get_scenario
from app.templating import render

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)

TEMPLATE = "scenario_simulation.html"
TASK = "simulate"
# The form's choices, in days; the API allows any number within its bounds.
REPLAY_CHOICES = (7, 30, 90)
HORIZON_CHOICES = (7, 30, 90)


def _choice(raw: object, allowed: tuple[int, ...], what: str) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        value = -1
    if value not in allowed:
        raise Invalid(_("Choose how many days %(what)s.") % {"what": what})
    return value


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def shaped(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as the fragment shows it: days for the chart, reasons in words."""
    per_day = answer["messages_per_day"]
    days = [date.fromisoformat(row["day"]) for row in per_day]
    email = {date.fromisoformat(row["day"]): row["email"] for row in per_day}
    sms = {date.fromisoformat(row["day"]): row["sms"] for row in per_day}
    reasons = [
        (_(REASONS.get(code, REASONS["other"])), count)
        for code, count in sorted(answer["skipped_reasons"].items(), key=lambda kv: -kv[1])
    ]
    return {
        "answer": answer,
        "running": answer["status"] == "running",
        "days": days,
        "email_by_day": email,
        "sms_by_day": sms,
        "reasons": reasons,
        # What simulation.js writes onto the cards (read with textContent, never as HTML).
        "ghost": {"status": answer["status"], "nodes": answer["nodes"]},
    }


@router.post("/scenarios/{scenario_id}/simulate")
async def start(
    scenario_id: Int32, request: Request, session: SessionDep, background: BackgroundTasks
) -> HTMLResponse:
    """Starts a simulation of the draft; a bad choice or a draft that cannot run yet is a
    422 that says why and stores nothing."""
    form = await request.form()
    try:
        get_scenario(session, scenario_id)
        replay = _choice(form.get("replay_days"), REPLAY_CHOICES, _("to replay"))
        horizon = _choice(form.get("horizon_days"), HORIZON_CHOICES, _("to look ahead"))
        simulation = service.start_simulation(
            session,
            scenario_id,
            version="draft",
            replay_days=replay,
            horizon_days=horizon,
            include_existing=form.get("include_existing") == "on",
            now=_now(request),
        )
    except ServiceError as error:
        return render_error(request, scenario_id, error)
    # After the response, so after the request's transaction committed the row.
    background.add_task(
        request.app.state.queue.enqueue, TASK, simulation.id, job_id=f"simulate:{simulation.id}"
    )
    return _render(request, session, simulation)


@router.get("/scenarios/{scenario_id}/simulations/{simulation_id}")
def read(
    scenario_id: Int32, simulation_id: Int32, request: Request, session: SessionDep
) -> HTMLResponse:
    simulation = service.get_simulation(session, scenario_id, simulation_id)
    return _render(request, session, simulation)


@router.post("/scenarios/{scenario_id}/simulations/{simulation_id}/cancel")
def cancel(
    scenario_id: Int32, simulation_id: Int32, request: Request, session: SessionDep
) -> HTMLResponse:
    simulation = service.cancel_simulation(session, scenario_id, simulation_id, _now(request))
    return _render(request, session, simulation)


@router.get("/scenarios/{scenario_id}/simulations/{simulation_id}/contacts/{contact_id}")
def journey(
    scenario_id: Int32,
    simulation_id: Int32,
    contact_id: Int32,
    request: Request,
    session: SessionDep,
) -> HTMLResponse:
    """A sample contact's simulated journey, on the real journey page's layout."""
    scenario = get_scenario(session, scenario_id)
    simulation, contact, journeys = service.simulated_journeys(
        session, scenario_id, simulation_id, contact_id
    )
    context = {
        "scenario": scenario,
        "contact": contact,
        "journeys": journeys,
        "simulation": simulation,
        "simulated": True,
    }
    return render(request, "journey.html", context)


def _render(request: Request, session: Session, simulation: Simulation) -> HTMLResponse:
    answer = service.answer(simulation)
    context = {
        "scenario_id": simulation.scenario_id,
        **shaped(answer),
        # Only once done: the fragment polled every second does not look the contacts up.
        "samples": service.sample_blocks(session, simulation) if answer["status"] == "done" else [],
    }
    return render(request, TEMPLATE, context, block="simulation")


def render_error(request: Request, scenario_id: int, error: ServiceError) -> HTMLResponse:
    return render(
        request,
        TEMPLATE,
        {"scenario_id": scenario_id, "error": error.message},
        block="simulation",
        status_code=error.status_code,
    )
