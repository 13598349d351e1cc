"""The sample contacts of a finished simulation and their simulated journeys (issue 15 point
3): each block with samples lists up to 20 contacts under the answer, each a link to a journey
page like the real one, marked simulated; and a running simulation can be stopped."""

from __future__ import annotations

import copy
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from app.clock import SystemClock
from app.db import read_only, session_scope
from app.models import Contact, Simulation, SimulationStatus
from app.services.scenarios import scenarios
from tests.api import test_simulation_pages as pages
from tests.api.test_simulation_pages import _simulation_id, _start
from tests.fixtures.web import Browser
from worker.simulation.run import run_simulation

# The same scene and browsers as the Simulate box's own tests.
shop, marie, marie_fr = pages.shop, pages.marie, pages.marie_fr
HX = {"HX-Request": "true"}


def _contact(engine: Engine, email: str) -> int:
    with Session(read_only(engine)) as session:
        found = session.execute(select(Contact.id).where(Contact.email == email)).scalar_one()  # type: ignore[arg-type]
        return int(found)


def _simulated(browser: Browser, engine: Engine, scenario_id: int) -> int:
    started = _start(browser, scenario_id)
    assert started.status_code == 200, started.text
    sid = _simulation_id(engine)
    assert run_simulation(engine, sid, chunk_size=4) == "done"
    return sid


def _journey(client: TestClient, scenario_id: int, sid: int, contact_id: int):  # type: ignore[no-untyped-def]
    return client.get(f"/scenarios/{scenario_id}/simulations/{sid}/contacts/{contact_id}")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_answer_lists_sample_contacts_per_block_as_the_canvas_names_it(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    n3 = _contact(committed_engine, "n3@example.com")
    with session_scope(committed_engine) as session:  # a contact known by an id of theirs only
        session.execute(
            update(Contact).where(Contact.id == n3).values(email=None, external_id="crm-3")  # type: ignore[arg-type]
        )
    sid = _simulated(marie, committed_engine, shop)

    done = marie.client.get(f"/scenarios/{shop}/simulations/{sid}", headers=HX)

    assert 'data-testid="simulation-samples"' in done.text
    text = _text(done.text)
    assert "Sample contacts" in text
    # One <details> per block, its name and summary as on the card: two "Send an email" told
    # apart by their message.
    for node in ("joined", "hello", "later", "tip"):
        assert f'data-testid="samples-{node}"' in done.text
    assert "Send an email Send email 'hello' 10 contacts" in text.replace("&#39;", "'")
    hello = re.search(r'data-testid="samples-hello".*?</details>', done.text, re.S)
    assert hello is not None
    links = re.findall(
        rf'href="/scenarios/{shop}/simulations/{sid}/contacts/(\d+)"[^>]*>([^<]+)</a>', hello[0]
    )
    assert len(links) == 10
    assert (str(n3), f"Contact {n3}") in links
    labels = {label for _, label in links}
    assert {"n0@example.com", "n9@example.com"} <= labels
    assert 'target="_blank" rel="noopener"' in hello[0]


def test_a_running_answer_lists_no_samples(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    running = _start(marie, shop)

    assert "Sample contacts" not in running.text


def test_a_sample_contacts_simulated_journey_reads_like_the_real_one_marked_simulated(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie, committed_engine, shop)
    n0 = _contact(committed_engine, "n0@example.com")  # gave no consent: both emails skipped

    page = _journey(marie.client, shop, sid, n0)

    assert page.status_code == 200
    assert 'data-testid="simulated-badge"' in page.text
    text = _text(page.text)
    assert "n0@example.com simulated" in text
    assert (
        "Simulated: what would have happened if this draft had been live; nothing was sent." in text
    )
    assert "The 7 days before" in text
    assert "were replayed, then 7 days ahead." in text
    assert "The draft, as simulated" in text
    # The steps with the blocks' names and the reasons, as on the real page.
    for step in ("joined-completed", "hello-skipped", "later-waiting", "later-completed",
                 "tip-skipped"):  # fmt: skip
        assert f'data-testid="step-{step}"' in page.text
    assert text.count("no consent to marketing emails → not sent") == 2
    assert "Wait 1 day" in text
    assert 'class="badge state-completed"' in page.text  # at the horizon: finished
    assert f'href="/scenarios/{shop}/simulations/{sid}"' in page.text  # back to the answer
    with Session(read_only(committed_engine)) as session:  # and nothing happened for real
        assert session.get(Contact, n0) is not None
        assert session.execute(select(Simulation.status)).scalar_one() == SimulationStatus.done


def test_a_journey_waiting_at_the_horizon_says_when_its_next_step_is_due(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    started = _start(marie, shop)
    assert started.status_code == 200
    sid = _simulation_id(committed_engine)
    month = copy.deepcopy(pages.WELCOME)  # a wait longer than the 7 days looked ahead
    for node in month["nodes"]:
        if node["id"] == "later":
            node["config"]["seconds"] = 30 * 86400
    with session_scope(committed_engine) as session:
        session.execute(update(Simulation).where(Simulation.id == sid).values(graph=month))  # type: ignore[arg-type]
    assert run_simulation(committed_engine, sid) == "done"
    n1 = _contact(committed_engine, "n1@example.com")

    page = _journey(marie.client, shop, sid, n1)

    assert page.status_code == 200
    assert 'class="badge state-waiting"' in page.text
    assert "Next step due" in page.text
    assert "Wait 30 days" in page.text  # named from the graph simulated, not the draft
    assert 'data-testid="step-tip-completed"' not in page.text


def test_re_entries_are_told_apart_latest_first(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie, committed_engine, shop)
    n2 = _contact(committed_engine, "n2@example.com")
    with session_scope(committed_engine) as session:  # as a contact who came in twice would be
        simulation = session.get(Simulation, sid)
        assert simulation is not None
        steps = simulation.result["journeys"][str(n2)]
        first = simulation.result["enrollments"][str(n2)][0]
        again = {**first, "entered_at": steps[-1]["at"], "state": "waiting", "wake_at": None,
                 "steps": [len(steps)]}  # fmt: skip
        simulation.result = {
            **simulation.result,
            "journeys": {**simulation.result["journeys"], str(n2): [*steps, steps[0]]},
            "enrollments": {**simulation.result["enrollments"], str(n2): [first, again]},
        }
        session.add(simulation)

    page = _journey(marie.client, shop, sid, n2)

    journeys = re.findall(r'data-testid="journey-(\d+)"', page.text)
    assert journeys == ["2", "1"]
    assert "Journey 2 · entered" in page.text
    assert "Journey 1 · entered" in page.text


def test_a_simulation_stored_before_journeys_were_grouped_still_shows_its_steps(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie, committed_engine, shop)
    n4 = _contact(committed_engine, "n4@example.com")
    with session_scope(committed_engine) as session:
        simulation = session.get(Simulation, sid)
        assert simulation is not None
        simulation.result = {k: v for k, v in simulation.result.items() if k != "enrollments"}
        session.add(simulation)

    page = _journey(marie.client, shop, sid, n4)

    assert page.status_code == 200
    assert re.findall(r'data-testid="journey-(\d+)"', page.text) == ["1"]
    assert 'data-testid="step-tip-completed"' in page.text
    assert "state-" not in page.text  # its state at the horizon was not kept: no badge


def test_only_sampled_contacts_of_this_scenarios_simulation_have_a_simulated_journey(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie, committed_engine, shop)
    never_joined = _contact(committed_engine, "n15@example.com")
    sampled = _contact(committed_engine, "n5@example.com")
    with session_scope(committed_engine) as session:
        other = scenarios.create_scenario(
            session, name="Other", graph=pages.WELCOME, now=SystemClock().now()
        )
        other_id = other.id
    assert other_id is not None

    not_sampled = _journey(marie.client, shop, sid, never_joined)
    elsewhere = _journey(marie.client, other_id, sid, sampled)
    no_such = _journey(marie.client, shop, sid + 100, sampled)

    assert not_sampled.status_code == 404
    assert "This contact is not one of this simulation’s sample contacts." in not_sampled.text
    assert elsewhere.status_code == 404
    assert "There is no such simulation of this scenario." in elsewhere.text
    assert no_such.status_code == 404
    assert _journey(marie.client, shop, sid, sampled).status_code == 200


def test_an_erased_sample_contact_is_no_longer_listed_or_shown(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie, committed_engine, shop)
    n6 = _contact(committed_engine, "n6@example.com")
    with session_scope(committed_engine) as session:
        contact = session.get(Contact, n6)
        session.delete(contact)

    done = marie.client.get(f"/scenarios/{shop}/simulations/{sid}", headers=HX)
    page = _journey(marie.client, shop, sid, n6)

    assert "n6@example.com" not in done.text
    assert "n7@example.com" in done.text
    assert page.status_code == 404
    assert "This contact is no longer in your contacts." in page.text


def test_the_simulated_journey_reads_in_french(
    marie_fr: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie_fr, committed_engine, shop)
    n0 = _contact(committed_engine, "n0@example.com")

    done = marie_fr.client.get(f"/scenarios/{shop}/simulations/{sid}", headers=HX)
    page = _journey(marie_fr.client, shop, sid, n0)

    assert "Contacts d’exemple" in done.text
    assert "10 contacts" in done.text
    text = _text(page.text)
    assert "n0@example.com simulé" in text
    assert (
        "Simulé : ce qui se serait passé si ce brouillon avait été actif ; rien n’a été envoyé."
        in text
    )
    assert "Le brouillon, tel que simulé" in text


def test_a_running_simulation_can_be_cancelled_from_its_fragment(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    running = _start(marie, shop)
    sid = _simulation_id(committed_engine)
    cancel = f"/scenarios/{shop}/simulations/{sid}/cancel"
    assert f'hx-post="{cancel}"' in running.text
    assert 'hx-sync="closest .simulation-result:replace"' in running.text
    assert 'data-testid="simulation-cancel"' in running.text

    stopped = marie.post(cancel, htmx=True)

    assert stopped.status_code == 200
    assert "The simulation was stopped." in stopped.text
    assert "every 1s" not in stopped.text  # the polling stops with it
    assert 'data-testid="simulation-cancel"' not in stopped.text
    assert run_simulation(committed_engine, sid) == "cancelled"  # the worker does not run it
    again = marie.client.get(f"/scenarios/{shop}/simulations/{sid}", headers=HX)
    assert "The simulation was stopped." in again.text


def test_cancelling_needs_the_csrf_token_and_leaves_a_finished_one_as_it_is(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    sid = _simulated(marie, committed_engine, shop)
    cancel = f"/scenarios/{shop}/simulations/{sid}/cancel"

    forged = marie.client.post(cancel, headers=HX)
    late = marie.post(cancel, htmx=True)

    assert forged.status_code == 403
    assert late.status_code == 200
    assert "contacts would enter this scenario." in late.text
    with Session(read_only(committed_engine)) as session:
        assert session.execute(select(Simulation.status)).scalar_one() == SimulationStatus.done
