"""Enrolling by hand from the screens: the box on the manual trigger's panel, a contact's page
and a list's page shows the count before confirming, then enrolls under the re-entry rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import Session, func, select

from app.clock import SystemClock
from app.models import Contact, ContactList, Enrollment, ListMembership, Segment, User
from app.services.scenarios import scenarios as scenario_service
from tests.api.test_enroll_by_hand import BY_HAND, ON_PURCHASE
from tests.fixtures.web import Browser


@pytest.fixture
def shop(session: Session) -> dict[str, Any]:
    """1,234 contacts in the Newsletter (12 of them already in “Welcome”), a segment, and
    the scenarios: “Welcome” by hand (active), a draft by hand, one on purchase (active)."""
    session.add(ContactList(key="enrolled", name="Enrolled"))
    newsletter = ContactList(key="newsletter", name="Newsletter")
    session.add(newsletter)
    session.add(
        Segment(
            key="pro", name="Pro plan", condition={"attribute": "plan", "op": "eq", "value": "pro"}
        )
    )
    people = [
        Contact(email=f"n{i}@example.com", attributes={"plan": "pro" if i < 3 else "free"})
        for i in range(1234)
    ]
    session.add_all(people)
    session.flush()
    session.add_all(ListMembership(list_id=newsletter.id, contact_id=p.id) for p in people)  # type: ignore[arg-type]
    now = SystemClock().now()
    made: dict[str, int] = {}
    for name, graph, active in (
        ("Welcome", BY_HAND, True),
        ("Later", BY_HAND, False),
        ("Buyers", ON_PURCHASE, True),
    ):
        scenario = scenario_service.create_scenario(
            session, name=name, graph=copy.deepcopy(graph), now=now
        )
        if active:
            scenario_service.activate(session, scenario.id, now=now)  # type: ignore[arg-type]
        made[name] = scenario.id  # type: ignore[assignment]
    session.commit()
    from app.services.scenarios import manual_enrollment as manual

    entry = manual.manual_entry(session, made["Welcome"])
    target = manual.resolve(session, manual.Target(tuple(p.id for p in people[:12])), now)  # type: ignore[misc]
    manual.enroll(session, entry, target, now)
    session.commit()
    return {"scenarios": made, "people": people}


def enrolled(session: Session, sid: int) -> int:
    session.expire_all()
    query = select(func.count()).select_from(Enrollment).where(Enrollment.scenario_id == sid)
    return session.exec(query).one()


def htmx_get(logged_in: Browser, url: str) -> Any:
    return logged_in.client.get(url, headers={"HX-Request": "true"})


def test_the_canvas_box_counts_a_list_then_enrolls_it(
    logged_in: Browser, shop: dict[str, Any], session: Session
) -> None:
    sid = shop["scenarios"]["Welcome"]

    box = htmx_get(logged_in, f"/enroll?scenario={sid}")
    preview = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=list:newsletter")
    done = logged_in.post("/enroll", {"scenario": str(sid), "list": "newsletter"}, htmx=True)

    assert box.status_code == 200
    assert 'value="list:newsletter"' in box.text
    assert 'value="segment:pro"' in box.text
    assert "Enroll 1,234 contacts of “Newsletter” in “Welcome”?" in preview.text
    assert "12 have already entered it and will be skipped" in preview.text
    assert "Enroll 1,222 contacts" in preview.text
    assert done.status_code == 200
    assert "1,222 contacts enrolled in “Welcome”." in done.text
    assert "12 skipped by its re-entry rules." in done.text
    assert enrolled(session, sid) == 1234


def test_one_contact_by_email_and_a_segment_from_the_canvas(
    logged_in: Browser, shop: dict[str, Any], session: Session
) -> None:
    sid = shop["scenarios"]["Welcome"]

    hint = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=email&email=")
    one = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=email&email=N500@example.com")
    again = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=email&email=n0@example.com")
    segment = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=segment:pro")
    nobody = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=email&email=x@example.com")

    assert "Type the contact’s email address" in hint.text
    assert "Enroll n500@example.com in “Welcome”?" in one.text
    assert 'name="contact"' in one.text
    assert "Enroll 1 contact" in one.text
    assert "n0@example.com cannot enter “Welcome” now." in again.text
    assert "enroll-confirm" not in again.text
    assert "Enroll 3 contacts of the segment “Pro plan” in “Welcome”?" in segment.text
    assert nobody.status_code == 404
    assert "No contact has the email address" in nobody.text
    assert enrolled(session, sid) == 12


def test_the_contact_and_list_pages_offer_only_active_scenarios_by_hand(
    logged_in: Browser, shop: dict[str, Any]
) -> None:
    contact = shop["people"][20]

    for url in (f"/enroll?contact={contact.id}", "/enroll?list=newsletter"):
        box = htmx_get(logged_in, url)
        assert box.status_code == 200
        assert ">Welcome</option>" in box.text
        assert "Later" not in box.text
        assert "Buyers" not in box.text
    preview = htmx_get(
        logged_in, f"/enroll/preview?contact={contact.id}&scenario={shop['scenarios']['Welcome']}"
    )
    assert "Enroll n20@example.com in “Welcome”?" in preview.text


def test_the_full_page_works_without_htmx(logged_in: Browser, shop: dict[str, Any]) -> None:
    page = logged_in.client.get("/enroll?list=newsletter")

    assert page.status_code == 200
    assert "<html" in page.text
    assert "Enroll the contacts of “Newsletter” in" in page.text


def test_refusals_are_said_in_plain_words_and_write_nothing(
    logged_in: Browser, shop: dict[str, Any], session: Session
) -> None:
    later, buyers = shop["scenarios"]["Later"], shop["scenarios"]["Buyers"]

    draft_box = htmx_get(logged_in, f"/enroll?scenario={later}")
    answers = [
        logged_in.post("/enroll", {"scenario": str(later), "list": "newsletter"}, htmx=True),
        logged_in.post("/enroll", {"scenario": str(buyers), "list": "newsletter"}, htmx=True),
        logged_in.post(
            "/enroll", {"scenario": str(shop["scenarios"]["Welcome"]), "list": "nope"}, htmx=True
        ),
        logged_in.post("/enroll", {"scenario": "x1", "list": "newsletter"}, htmx=True),
        logged_in.post("/enroll", {"list": "newsletter"}, htmx=True),
        logged_in.post("/enroll", {"scenario": "99999999999", "list": "newsletter"}, htmx=True),
    ]

    assert "Activate the scenario before adding contacts to it." in draft_box.text
    assert [a.status_code for a in answers] == [409, 409, 404, 422, 422, 422]
    assert all('class="alert alert-error"' in a.text for a in answers)
    assert "Traceback" not in "".join(a.text for a in answers)
    assert enrolled(session, later) == enrolled(session, buyers) == 0
    assert enrolled(session, shop["scenarios"]["Welcome"]) == 12


def test_confirming_needs_the_csrf_token(
    logged_in: Browser, shop: dict[str, Any], session: Session
) -> None:
    sid = shop["scenarios"]["Welcome"]

    response = logged_in.client.post("/enroll", data={"scenario": str(sid), "list": "newsletter"})

    assert response.status_code == 403
    assert enrolled(session, sid) == 12


def test_a_french_user_reads_the_count_and_the_result_in_french(
    logged_in: Browser, shop: dict[str, Any], session: Session, user: User
) -> None:
    user.language = "fr"
    session.add(user)
    session.commit()
    sid = shop["scenarios"]["Welcome"]

    box = htmx_get(logged_in, f"/enroll?scenario={sid}")
    preview = htmx_get(logged_in, f"/enroll/preview?scenario={sid}&who=list:newsletter")
    done = logged_in.post("/enroll", {"scenario": str(sid), "list": "newsletter"}, htmx=True)
    elsewhere = htmx_get(logged_in, "/enroll?list=newsletter")

    assert "Inscrire à la main" in box.text
    assert "Inscrire 1\u202f234 contacts de « Newsletter » dans « Welcome » ?" in preview.text
    assert "12 sont déjà entrés et seront ignorés" in preview.text
    assert "1\u202f222 contacts inscrits dans « Welcome »." in done.text
    assert "Inscrire les contacts de « Newsletter » dans" in elsewhere.text
