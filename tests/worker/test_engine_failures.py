"""A failing step is retried with backoff, then marked failed; everyone else goes on.
Counters kept hot equal what the step log says; work per chunk does not grow per contact."""

from __future__ import annotations

from sqlalchemy import delete, event
from sqlmodel import Session, select

from app.models import ContactList, EnrollmentState, ScenarioVersion, StepLog
from app.services.scenarios.stats import version_stats
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import LOYALTY
from worker.engine.advance import MAX_ATTEMPTS, retry_delay


def test_a_step_that_keeps_failing_is_retried_then_marked_failed_and_others_go_on(
    session: Session,
) -> None:
    engine = Engine(session)
    engine.message("coupon-20")
    engine.list("loyal-customers")
    scenario = engine.scenario(LOYALTY)
    # The list is deleted after activation: adding to it can only fail.
    session.execute(delete(ContactList).where(ContactList.key == "loyal-customers"))  # type: ignore[arg-type]
    newcomer = engine.contact(attributes={"orders_count": 1})
    regular = engine.contact(attributes={"orders_count": 4})
    engine.event(newcomer, "purchase")
    engine.event(regular, "purchase")

    engine.run()
    assert engine.sent() == [(newcomer.id, "email", "coupon-20")]
    stuck = next(e for e in engine.enrollments(scenario) if e.contact_id == regular.id)
    assert (stuck.state, stuck.node_id, stuck.attempts) == (EnrollmentState.active, "loyal", 1)
    assert "no longer exists" in (stuck.last_error or "")

    for attempt in range(1, MAX_ATTEMPTS):
        engine.clock.advance(seconds=retry_delay(attempt).total_seconds())
        engine.run()

    failed = next(e for e in engine.enrollments(scenario) if e.contact_id == regular.id)
    assert failed.state == EnrollmentState.failed
    assert engine.journey(regular, scenario)[-1] == ("loyal", "failed")
    stats = version_stats(session, session.exec(select(ScenarioVersion)).one())
    assert (stats.nodes["loyal"].entered, stats.nodes["loyal"].failed) == (1, 1)


def test_hot_counters_equal_the_counts_of_the_step_log(session: Session) -> None:
    engine = Engine(session, chunk_size=7)
    engine.message("coupon-20")
    engine.list("loyal-customers")
    engine.scenario(LOYALTY)
    for orders in range(20):
        buyer = engine.contact(
            attributes={"orders_count": orders % 3}, email_consent=orders % 4 != 0
        )
        engine.event(buyer, "purchase")
    engine.run()

    version = session.exec(select(ScenarioVersion)).one()
    truth = version_stats(session, version)
    hot: dict[str, dict[str, int]] = {}
    for (_, version_id, node, name), count in engine.counters.items():
        assert version_id == version.id
        hot.setdefault(node, {})[name] = hot.get(node, {}).get(name, 0) + count
    for node, counters in truth.nodes.items():
        expected = {k: v for k, v in counters.model_dump().items() if v}
        assert {k: v for k, v in hot.get(node, {}).items() if v} == expected, node
    assert truth.nodes["first"].yes + truth.nodes["first"].no == 20


def test_statements_per_chunk_do_not_grow_with_the_number_of_contacts(session: Session) -> None:
    def statements_for(contacts: int) -> int:
        engine = Engine(session)
        count = 0

        def on_execute(*_: object) -> None:
            nonlocal count
            count += 1

        for _ in range(contacts):
            buyer = engine.contact(attributes={"orders_count": 1 + _ % 2})
            engine.event(buyer, "purchase")
        event.listen(session.get_bind(), "before_cursor_execute", on_execute)
        try:
            engine.run()
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", on_execute)
        return count

    engine = Engine(session)
    engine.message("coupon-20")
    engine.list("loyal-customers")
    scenario = engine.scenario({**LOYALTY, "settings": {"reentry": "always"}})

    # Events are matched by share of the contacts (16 on PostgreSQL): both runs fill them all.
    small, large = statements_for(100), statements_for(400)

    assert large == small
    assert (
        len(session.exec(select(StepLog).where(StepLog.scenario_id == scenario.id)).all()) == 1500
    )


WAIT_THEN_MAIL = {
    "schema": 1,
    "nodes": [
        {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "day", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
        {"id": "mail", "type": "action", "kind": "send_email", "config": {"message": "news"}},
    ],
    "edges": [{"from": "t", "to": "day"}, {"from": "day", "to": "mail"}],
    "settings": {},
}


def test_an_unsubscribe_during_a_wait_stops_the_email_after_it(session: Session) -> None:
    engine = Engine(session)
    engine.message("news")
    scenario = engine.scenario(WAIT_THEN_MAIL)
    leaving, staying = engine.contact(), engine.contact()
    for contact in (leaving, staying):
        engine.event(contact, "signup")
    engine.run()
    leaving.email_consent = False
    session.add(leaving)
    session.flush()

    engine.later(days=1)

    assert [c for c, _, _ in engine.sent()] == [staying.id]
    assert engine.journey(leaving, scenario)[-1] == ("mail", "skipped")


def test_a_contact_erased_during_a_run_leaves_the_others_unharmed(session: Session) -> None:
    from app.services.contacts import gdpr

    engine = Engine(session)
    engine.message("news")
    scenario = engine.scenario(WAIT_THEN_MAIL)
    erased, kept = engine.contact(), engine.contact()
    for contact in (erased, kept):
        engine.event(contact, "signup")
    engine.run()
    assert len(gdpr.export_contact(session, erased.id, engine.clock.now())["journey_steps"]) == 2  # type: ignore[arg-type]
    gdpr.erase_contact(session, erased.id, engine.clock.now())  # type: ignore[arg-type]

    engine.later(days=1)

    assert [c for c, _, _ in engine.sent()] == [kept.id]
    assert [e.contact_id for e in engine.enrollments(scenario)] == [kept.id]
    steps = session.exec(select(StepLog.contact_id).where(StepLog.scenario_id == scenario.id))
    assert set(steps.all()) == {kept.id}
