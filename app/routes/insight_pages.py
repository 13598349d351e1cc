"""Insight pages: the template gallery, a scenario's statistics with its live graph, who is
at a block (and actions on them), and one contact's journey with the reason for every turn."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.deps import CurrentUser, SessionDep, get_current_user
from app.i18n import N_, _
from app.inputs import Int32, Int64
from app.models import Scenario
from app.scenario_templates import scenario_templates
from app.services.errors import Invalid
from app.services.insights import contacts as people
from app.services.insights import live_counters as insights
from app.services.insights.stats import has_goal, period, scenario_report
from app.services.messaging import not_sent
from app.services.scenarios import scenarios as scenario_service
from app.services.scenarios.graph_layout import layout
from app.services.scenarios.ref_names import ref_names
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
# The gallery's order: from the simplest to the most involved.
GALLERY = (
    "welcome",
    "birthday",
    "abandoned_cart",
    "onboarding",
    "loyal_customers",
    "reengagement",
    "lead_scoring",
)
# The words of app.services.insights.contacts.SHOW, for the catalog: the filter buttons of
# the contacts at a block are shown in the reader's language.
SHOW_WORDS = (
    N_("Everyone who came here"),
    N_("Waiting here now"),
    N_("Answered yes"),
    N_("Answered no"),
    N_("Done"),
    N_("Not sent"),
    N_("Failed"),
    N_("Left the scenario here"),
)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


@router.get("/templates")
def gallery(request: Request) -> HTMLResponse:
    bundles = scenario_templates()
    keys = [k for k in GALLERY if k in bundles] + sorted(set(bundles) - set(GALLERY))
    cards = [{"bundle": bundles[k], "layout": layout(bundles[k].graph)} for k in keys]
    return render(request, "templates_gallery.html", {"cards": cards})


@router.post("/templates/{key}/use", response_model=None)
def use_template(
    key: str, request: Request, session: SessionDep, name: Annotated[str, Form()] = ""
) -> Response:
    """Creates the draft with its lists and messages, and opens it on the canvas."""
    scenario, _report = scenario_service.create_from_template(
        session, key, now=_now(request), name=name.strip() or None
    )
    return RedirectResponse(f"/scenarios/{scenario.id}", status_code=303)


@router.get("/scenarios/{scenario_id}/stats")
def stats_page(
    scenario_id: Int32,
    request: Request,
    session: SessionDep,
    version: Annotated[str, Query()] = "",
    start: Annotated[str, Query()] = "",
    end: Annotated[str, Query()] = "",
) -> HTMLResponse:
    scenario = scenario_service.get_scenario(session, scenario_id)
    versions = insights.scenario_versions(session, scenario_id)
    chosen = next((v for v in versions if str(v.number) == version), None)
    if version and chosen is None:
        raise Invalid(_("This scenario has no version %(version)s.") % {"version": version})
    when = period(start, end, _now(request).date())
    live = scenario_service.live_version(session, scenario)
    shown = chosen or live
    graph = shown.graph if shown is not None else scenario.draft
    report = scenario_report(session, scenario_id, chosen, when, goal=has_goal(graph))
    unsent = not_sent.by_block(session, scenario_id) if versions else []
    per_version = [insights.exact_counters(session, v) for v in versions]
    return render(
        request,
        "scenario_stats.html",
        {
            "scenario": scenario,
            "versions": versions,
            "chosen": chosen,
            "report": report,
            "graph": layout(graph, ref_names(session)),
            "names": people.block_names(graph, ref_names(session)),
            "counters": insights.live_counters(graph, per_version, unsent),
            "start": when.start.isoformat(),
            "end": when.end.isoformat(),
        },
        block="fragment",
    )


@router.get("/scenarios/{scenario_id}/blocks/{node_id}/contacts")
def block_contacts(
    scenario_id: Int32,
    node_id: str,
    request: Request,
    session: SessionDep,
    show: Annotated[str, Query()] = "all",
    q: Annotated[str, Query(max_length=200)] = "",
    why: Annotated[str, Query(max_length=40)] = "",
    after: Annotated[Int64 | None, Query()] = None,
) -> HTMLResponse:
    scenario = scenario_service.get_scenario(session, scenario_id)
    page = people.block_visitors(
        session, scenario_id, node_id, show=show, search=q, why=why, after=after
    )
    names = people.block_names(_graph_of(session, scenario), ref_names(session))
    return render(
        request,
        "block_contacts.html",
        {
            "scenario": scenario,
            "node_id": node_id,
            "block": names.get(node_id, (node_id, "")),
            "page": page,
            "show": show,
            "shows": {key: _(label) for key, label in people.SHOW.items()},
            "q": q,
            "why": why if show == "skipped" else "",
            "why_words": not_sent.reason_words(why) if why and show == "skipped" else "",
            "after": after,
        },
        block="fragment",
    )


def _graph_of(session: Session, scenario: Scenario) -> dict[str, Any]:
    live = scenario_service.live_version(session, scenario)
    return live.graph if live is not None else scenario.draft


@router.post("/scenarios/{scenario_id}/enrollments/{enrollment_id}/remove")
def remove(
    scenario_id: Int32,
    enrollment_id: Int64,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    background: BackgroundTasks,
) -> HTMLResponse:
    removed = people.remove_from_scenario(
        session,
        scenario_id,
        enrollment_id,
        removed_by=user.name or user.email,
        now=_now(request),
    )
    if removed.was_waiting:
        # After the commit (background tasks run once the response is out).
        background.add_task(
            insights.note_waiting_left,
            request.app.state.queue.redis,
            scenario_id,
            removed.version_id,
            removed.node_id,
        )
    return render(
        request,
        "block_contacts_removed.html",
        {"who": user.name or user.email},
    )


@router.post("/scenarios/{scenario_id}/blocks/{node_id}/save-list", response_model=None)
def save_list(
    scenario_id: Int32,
    node_id: str,
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    show: Annotated[str, Form()] = "all",
    q: Annotated[str, Form()] = "",
) -> Response:
    scenario_service.get_scenario(session, scenario_id)
    lst, added = people.save_as_list(
        session, scenario_id, node_id, name=name, show=show, search=q, now=_now(request)
    )
    return render(request, "block_contacts_saved.html", {"list": lst, "added": added})


@router.get("/scenarios/{scenario_id}/contacts/{contact_id}")
def journey_page(
    scenario_id: Int32, contact_id: Int32, request: Request, session: SessionDep
) -> HTMLResponse:
    scenario = scenario_service.get_scenario(session, scenario_id)
    contact, journeys = people.journeys(session, scenario, contact_id)
    return render(
        request,
        "journey.html",
        {"scenario": scenario, "contact": contact, "journeys": journeys},
    )
