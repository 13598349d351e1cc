"""Asking what a scenario would do (CONTRACTS-2 §A): the request is checked and stored here,
the worker runs it (``worker/simulation``) and the answer is read back from the row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from app.graph import Issue, check_draft, has_errors
from app.i18n import _, format_number, ngettext, pgettext
from app.models import Contact, Scenario, ScenarioVersion, Simulation, SimulationStatus
from app.services.errors import Invalid, NotFound
from app.services.insights.contacts import JourneyStep, block_names
from app.services.scenarios.ref_names import ref_names
from app.services.scenarios.scenarios import ScenarioInvalid, get_scenario, known_refs

EMPTY_RESULT: dict[str, Any] = {
    "entered": 0,
    "nodes": {},
    "messages": {"email": 0, "sms": 0},
    "messages_per_day": [],
    "skipped_reasons": {},
    "samples": {},
    "journeys": {},
    "warnings": [],
}


def graph_to_simulate(
    session: Session, scenario: Scenario, version: Literal["draft"] | int
) -> tuple[int | None, dict[str, Any]]:
    """(version number or None for the draft, its graph). A draft with errors cannot run:
    its issues come back as activation would list them."""
    if version == "draft":
        document, issues = check_draft(scenario.draft, known_refs(session))
        if document is None or has_errors(issues):
            raise ScenarioInvalid(issues)
        return None, scenario.draft
    row = session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id, ScenarioVersion.number == version
        )
    ).first()
    if row is None:
        raise Invalid(_("This scenario has no version %(number)s.") % {"number": version})
    # A list or message it names may have been deleted since it stopped being live: refused
    # now, in words, rather than failing in the worker.
    document, issues = check_draft(row.graph, known_refs(session))
    if document is None or has_errors(issues):
        raise VersionCannotRun(version, issues)
    return version, row.graph


class VersionCannotRun(ScenarioInvalid):
    """A published version that could not run today; the issues say why, block by block."""

    def __init__(self, number: int, issues: list[Issue]) -> None:
        super().__init__(issues)
        errors = sum(1 for issue in issues if issue.is_error)
        self.message = ngettext(
            "Version %(number)s cannot run as it is: %(count)s problem, such as a list or a "
            "message deleted since.",
            "Version %(number)s cannot run as it is: %(count)s problems, such as a list or a "
            "message deleted since.",
            errors,
        ) % {"number": number, "count": format_number(errors)}


def start_simulation(
    session: Session,
    scenario_id: int,
    *,
    version: Literal["draft"] | int,
    replay_days: int,
    horizon_days: int,
    include_existing: bool,
    now: datetime,
) -> Simulation:
    """Stores the request (running); the caller queues the worker's task once committed."""
    scenario = get_scenario(session, scenario_id)
    number, graph = graph_to_simulate(session, scenario, version)
    simulation = Simulation(
        scenario_id=scenario_id,
        version=number,
        graph=graph,
        replay_days=replay_days,
        horizon_days=horizon_days,
        include_existing=include_existing,
        as_of=now,
        created_at=now,
        result=dict(EMPTY_RESULT),
    )
    session.add(simulation)
    session.flush()
    return simulation


def get_simulation(session: Session, scenario_id: int, simulation_id: int) -> Simulation:
    simulation = session.get(Simulation, simulation_id)
    if simulation is None or simulation.scenario_id != scenario_id:
        raise NotFound(_("There is no such simulation of this scenario."))
    return simulation


def cancel_simulation(
    session: Session, scenario_id: int, simulation_id: int, now: datetime
) -> Simulation:
    """A running simulation stops before its next chunk; a finished one stays as it is."""
    simulation = get_simulation(session, scenario_id, simulation_id)
    if simulation.status == SimulationStatus.running:
        simulation.status = SimulationStatus.cancelled
        simulation.finished_at = now
        session.add(simulation)
        session.flush()
    return simulation


def answer(simulation: Simulation) -> dict[str, Any]:
    """The API's view of a simulation: the counts so far, the full answer once done."""
    result = {**EMPTY_RESULT, **(simulation.result or {})}
    return {
        "id": simulation.id,
        "status": simulation.status.value
        if isinstance(simulation.status, SimulationStatus)
        else simulation.status,
        "progress": simulation.progress,
        "version": "draft" if simulation.version is None else simulation.version,
        "replay_days": simulation.replay_days,
        "horizon_days": simulation.horizon_days,
        "include_existing": simulation.include_existing,
        "as_of": simulation.as_of,
        "error": simulation.error,
        **{key: result[key] for key in EMPTY_RESULT},
        "warnings": [
            {"node": w.get("node"), "code": w["code"], "message": warning_words(w)}
            for w in result["warnings"]
        ],
    }


def warning_words(warning: dict[str, Any]) -> str:
    """A simulation's warning in the reader's words, saying what to do."""
    code = warning["code"]
    if code == "burst_at_activation":
        count = int(warning.get("count", 0))
        if warning.get("message"):
            return ngettext(
                "%(count)s contact would get “%(message)s” within 5 minutes of activation: "
                "consider letting them in at most a number per hour.",
                "%(count)s contacts would get “%(message)s” within 5 minutes of activation: "
                "consider letting them in at most a number per hour.",
                count,
            ) % {"count": format_number(count), "message": warning["message"]}
        return ngettext(
            "%(count)s contact would get this message within 5 minutes of activation: "
            "consider letting them in at most a number per hour.",
            "%(count)s contacts would get this message within 5 minutes of activation: "
            "consider letting them in at most a number per hour.",
            count,
        ) % {"count": format_number(count)}
    if code == "nobody_enters":
        return _(
            "Nobody would have entered: no contact did what the trigger waits for in the "
            "replayed days. Replay more days, or let in the contacts already there."
        )
    if code == "segment_not_replayed":
        return _(
            "Who entered this segment in the past is not known: only the contacts in it now "
            "are counted, when the contacts already there are let in."
        )
    if code == "manual_not_simulated":
        return _("Contacts enrolled by hand are not simulated: nobody enters here.")
    if code == "tracking_not_predicted":
        return _(
            "Simulated messages are never opened or clicked: this wait for %(event)s only "
            "sees what the contacts did for real."
        ) % {"event": warning.get("event", "")}
    return str(code)


# --- sample contacts and their simulated journeys ----------------------------------------------


@dataclass(frozen=True)
class SampleContact:
    contact_id: int
    label: str  # the email, or "Contact N" when there is none


@dataclass(frozen=True)
class SampleBlock:
    node_id: str
    name: str
    summary: str  # what tells two blocks of one kind apart ("Send email 'hello'")
    contacts: list[SampleContact]


def _names(session: Session, simulation: Simulation) -> dict[str, tuple[str, str]]:
    """Each block's (name, summary) in the graph that was simulated, which the draft may
    have left since."""
    return block_names(simulation.graph, ref_names(session))


def _sampled(simulation: Simulation) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = (simulation.result or {}).get("samples") or {}
    return samples


def sample_blocks(session: Session, simulation: Simulation) -> list[SampleBlock]:
    """The sampled contacts of each block, blocks in the canvas's order; a contact erased
    since is left out (there is nothing left to show)."""
    samples = _sampled(simulation)
    ids = {contact_id for ids in samples.values() for contact_id in ids}
    if not ids:
        return []
    emails = dict(
        session.exec(select(Contact.id, Contact.email).where(col(Contact.id).in_(ids))).all()
    )
    blocks = []
    for node_id, (name, summary) in _names(session, simulation).items():
        people = [
            SampleContact(
                contact_id,
                emails[contact_id] or _("Contact %(id)s") % {"id": contact_id},
            )
            for contact_id in samples.get(node_id, [])
            if contact_id in emails
        ]
        if people:
            blocks.append(SampleBlock(node_id, name, summary, people))
    return blocks


@dataclass(frozen=True)
class SimulatedEnrollment:
    """What the journey page reads of an enrollment, as the simulation left it."""

    id: int  # its place among the contact's simulated journeys, from 1
    entered_at: datetime
    state: str | None  # None: stored before simulations kept it
    wake_at: datetime | None
    instance_key: None = None


@dataclass
class SimulatedJourney:
    enrollment: SimulatedEnrollment
    steps: list[JourneyStep] = field(default_factory=list)


def simulated_journeys(
    session: Session, scenario_id: int, simulation_id: int, contact_id: int
) -> tuple[Simulation, Contact, list[SimulatedJourney]]:
    """A sampled contact's simulated journeys, the latest first as on the real journey
    page; a contact the simulation did not sample is not found."""
    simulation = get_simulation(session, scenario_id, simulation_id)
    if not any(contact_id in ids for ids in _sampled(simulation).values()):
        raise NotFound(_("This contact is not one of this simulation’s sample contacts."))
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(_("This contact is no longer in your contacts."))
    result = simulation.result or {}
    raw_steps: list[dict[str, Any]] = (result.get("journeys") or {}).get(str(contact_id), [])
    names = _names(session, simulation)
    gone = (pgettext("journey step", "A block no longer in the scenario"), "")
    steps = []
    for step in raw_steps:
        name, summary = names.get(step["node_id"], gone)
        at = datetime.fromisoformat(step["at"])
        steps.append(
            JourneyStep(at, step["node_id"], name, summary, step["outcome"], step.get("detail"))
        )
    heads: list[dict[str, Any]] | None = (result.get("enrollments") or {}).get(str(contact_id))
    if heads is None:  # stored before enrollments were kept: one journey, no state known
        if not steps:
            return simulation, contact, []
        heads = [{"entered_at": steps[0].at.isoformat(), "state": None, "wake_at": None,
                  "steps": list(range(len(steps)))}]  # fmt: skip
    journeys = [
        SimulatedJourney(
            SimulatedEnrollment(
                place,
                datetime.fromisoformat(head["entered_at"]),
                head.get("state"),
                datetime.fromisoformat(head["wake_at"]) if head.get("wake_at") else None,
            ),
            [steps[i] for i in head.get("steps", []) if i < len(steps)],
        )
        for place, head in enumerate(heads, start=1)
    ]
    return simulation, contact, journeys[::-1]
