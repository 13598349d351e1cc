"""Insight pages: the template gallery, a scenario's statistics with its live graph, who is
at a block (and actions on them), and one contact's journey with the reason for every turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.deps import CurrentUser, SessionDep, get_current_user
from app.i18n import N_, _
from app.inputs import Int32, Int64, plain_digits
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
from app.services.scenarios.split_results import split_results
from app.services.scenarios.split_winner import send_everyone_to
from app.services.scenarios.stats import find_version, still_active
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


def version_number(text: str) -> int | None:
    """``?version=`` as a pages' link writes it: empty for the live version, else a number."""
    text = text.strip()
    if not text:
        return None
    if not plain_digits(text) or len(text) > 9:
        raise Invalid(_("A version is a number, such as 2."))
    return int(text)


@dataclass(frozen=True)
class VersionTab:
    number: int
    live: bool
    published_at: datetime

    @property
    def label(self) -> str:
        if self.live:
            return _("Version %(number)s (live)") % {"number": self.number}
        return _("Version %(number)s") % {"number": self.number}


@router.get("/scenarios/{scenario_id}/stats")
def stats_page(
    scenario_id: Int32,
    request: Request,
    session: SessionDep,
    version: Annotated[str, Query(max_length=20)] = "",
    start: Annotated[str, Query(max_length=20)] = "",
    end: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """One version's statistics on that version's graph: the live one unless ``version``
    names another (CONTRACTS-2 §B); the counters of other versions are never added in."""
    scenario = scenario_service.get_scenario(session, scenario_id)
    chosen = version_number(version)
    shown = find_version(session, scenario, chosen)
    when = period(start, end, _now(request).date())
    versions = insights.scenario_versions(session, scenario_id)
    active = still_active(session, scenario_id) if versions else {}
    graph = shown.graph if shown is not None else scenario.draft
    # With no version yet, nothing has run: the report of "every version" is the empty one.
    report = scenario_report(session, scenario_id, shown, when, goal=has_goal(graph))
    unsent = not_sent.by_block(session, scenario_id, version_id=shown.id) if shown else []
    counts = insights.exact_counters(session, shown) if shown is not None else {}
    names = ref_names(session)
    return render(
        request,
        "scenario_stats.html",
        {
            "scenario": scenario,
            "shown": shown,
            "chosen": chosen,
            "tabs": [
                VersionTab(v.number, v.number == scenario.live_version, v.published_at)
                for v in reversed(versions)
            ],
            "still_on": insights.still_on_older(
                active, scenario.live_version, shown.number if shown else None
            ),
            "report": report,
            "graph": layout(graph, names),
            "names": people.block_names(graph, names),
            "counters": insights.live_counters(graph, counts, unsent),
            "splits": split_results(session, shown),
            "start": when.start.isoformat(),
            "end": when.end.isoformat(),
            # A period typed in the filter is kept when switching versions.
            "period_query": (f"&start={when.start.isoformat()}" if start else "")
            + (f"&end={when.end.isoformat()}" if end else ""),
        },
        block="fragment",
    )


@router.post("/scenarios/{scenario_id}/splits/{node_id}/winner", response_model=None)
def split_winner(
    scenario_id: Int32,
    node_id: Annotated[str, Path(max_length=100)],
    request: Request,
    session: SessionDep,
    port: Annotated[str, Form(max_length=20)],
) -> Response:
    """The draft's split sends everyone to ``port``; the canvas then publishes it."""
    send_everyone_to(session, scenario_id, node_id, port, now=_now(request))
    return RedirectResponse(f"/scenarios/{scenario_id}", status_code=303)


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
    version: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Who came to a block: of one version when ``version`` names it (the links of a version's
    counters do), else of every version."""
    scenario = scenario_service.get_scenario(session, scenario_id)
    chosen = version_number(version)
    shown = find_version(session, scenario, chosen) if chosen is not None else None
    page = people.block_visitors(
        session,
        scenario_id,
        node_id,
        show=show,
        search=q,
        why=why,
        after=after,
        version_id=shown.id if shown is not None else None,
    )
    graph = shown.graph if shown is not None else _graph_of(session, scenario)
    names = people.block_names(graph, ref_names(session))
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
            "version": shown.number if shown is not None else None,
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
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    scenario = scenario_service.get_scenario(session, scenario_id)
    chosen = version_number(version)
    shown = find_version(session, scenario, chosen) if chosen is not None else None
    lst, added = people.save_as_list(
        session,
        scenario_id,
        node_id,
        name=name,
        show=show,
        search=q,
        now=_now(request),
        version_id=shown.id if shown is not None else None,
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
