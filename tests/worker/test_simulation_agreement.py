"""A simulation says what the engine will do: the same contacts and events, simulated before
activation and then run for real by the engine's tasks after it, end with the same counts on
every block — conditions, waits that time out, goals, re-entry, consent skips (CONTRACTS-2 §A).
And the simulation writes nothing but its own row."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from arq import create_pool
from sqlalchemy import Engine, delete, func, insert, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.db import read_only, session_scope
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    ListMembership,
    MessagePurpose,
    MessageTemplate,
    OutboxMessage,
    ScenarioVersion,
    Simulation,
    StepLog,
)
from app.services.scenarios import existing_contacts, scenarios
from app.services.scenarios.stats import version_stats
from tests.worker.test_engine_journeys import graph
from worker.engine import counters
from worker.engine import tasks as engine_tasks
from worker.engine.plans import Plans
from worker.queue import redis_settings
from worker.simulation.run import run_simulation

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the replay starts here: "activation"
AS_OF = START + timedelta(days=7)  # when the marketer asks
END = AS_OF + timedelta(days=3)  # the horizon

CART = graph(
    [
        {"id": "cart", "type": "trigger", "kind": "event",
         "config": {"event": "cart_abandoned", "key": "cart_id"}},
        {"id": "loyal", "type": "condition", "kind": "if",
         "config": {"if": {"attribute": "orders_count", "op": "gte", "value": 1}}},
        {"id": "vip", "type": "action", "kind": "send_email", "config": {"message": "vip"}},
        {"id": "seen", "type": "delay", "kind": "wait_for_event",
         "config": {"event": "coupon_viewed", "timeout_seconds": 86400, "match_key": "cart_id"}},
        {"id": "engaged", "type": "action", "kind": "add_to_list", "config": {"list": "engaged"}},
        {"id": "remind", "type": "action", "kind": "send_email", "config": {"message": "reminder"}},
        {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 172800}},
        {"id": "text", "type": "action", "kind": "send_sms", "config": {"message": "sms-reminder"}},
    ],
    [("cart", "loyal"), ("loyal", "yes", "vip"), ("loyal", "no", "seen"),
     ("seen", "yes", "engaged"), ("seen", "no", "remind"), ("remind", "pause"),
     ("pause", "text")],
    reentry="after_exit",
    exit_when={"event": "purchase"},
)  # fmt: skip

# contact -> its fields; then (hours after START it reached us, contact, event, properties,
# hours earlier it happened).
PEOPLE: dict[str, dict[str, Any]] = {
    "vip": {"attributes": {"orders_count": 2}},
    "looker": {},
    "no-phone": {},
    "no-consent": {"email_consent": False},
    "buyer": {},
    "twice": {"phone": "+33600000001", "sms_consent": True},
    "other-cart": {},
    "bystander": {},
    "late-look": {},
    "horizon": {},
    "bought-before": {},
    "backfilled": {},
}
STORY: list[tuple[float, str, str, dict[str, Any], float]] = [
    (24, "vip", "cart_abandoned", {"cart_id": "A"}, 0),
    (24, "looker", "cart_abandoned", {"cart_id": "B"}, 0),
    (25, "no-phone", "cart_abandoned", {"cart_id": "C"}, 0),
    (25, "no-consent", "cart_abandoned", {"cart_id": "D"}, 0),
    (26, "looker", "coupon_viewed", {"cart_id": "B"}, 0),  # came in time: YES
    (30, "buyer", "cart_abandoned", {"cart_id": "E"}, 0),
    (30, "twice", "cart_abandoned", {"cart_id": "X"}, 0),
    (31, "twice", "cart_abandoned", {"cart_id": "X"}, 0),  # that cart still in: refused
    (33, "buyer", "purchase", {}, 0),  # the goal: out while waiting
    (40, "other-cart", "cart_abandoned", {"cart_id": "F"}, 0),
    (41, "other-cart", "coupon_viewed", {"cart_id": "nope"}, 0),  # not this cart: times out
    (50, "bystander", "page_viewed", {}, 0),  # no trigger listens
    (70, "backfilled", "cart_abandoned", {"cart_id": "G"}, 10),  # happened 10 h before
    (90, "bought-before", "purchase", {}, 0),  # before the cart: does not end it
    (100, "bought-before", "cart_abandoned", {"cart_id": "H"}, 0),
    (120, "twice", "cart_abandoned", {"cart_id": "X"}, 0),  # its journey over: in again
    (150, "late-look", "cart_abandoned", {"cart_id": "K"}, 0),
    (175, "late-look", "coupon_viewed", {"cart_id": "K"}, 0),  # after the deadline: NO
    (160, "horizon", "cart_abandoned", {"cart_id": "L"}, 0),  # times out after AS_OF
]


def _set_the_scene(engine: Engine) -> tuple[int, dict[str, int]]:
    with session_scope(engine) as session:
        for key, channel in (("vip", "email"), ("reminder", "email"), ("sms-reminder", "sms")):
            session.add(
                MessageTemplate(key=key, name=key, channel=channel, subject=key,  # type: ignore[arg-type]
                                purpose=MessagePurpose.marketing)
            )  # fmt: skip
        session.add(ContactList(key="engaged", name="Engaged"))
        fields_of = {name: {"email_consent": True, **f} for name, f in PEOPLE.items()}
        people = {name: Contact(email=f"{name}@example.com", **fields_of[name]) for name in PEOPLE}
        session.add_all(people.values())
        session.flush()
        scenario = scenarios.create_scenario(session, name="Cart", graph=CART, now=START)
        assert scenario.id is not None
        return scenario.id, {name: c.id for name, c in people.items()}  # type: ignore[misc]


def _event_rows(ids: dict[str, int], matched: bool) -> list[dict[str, Any]]:
    rows = []
    for hours, who, name, properties, earlier in sorted(STORY, key=lambda s: s[0]):
        received = START + timedelta(hours=hours)
        rows.append(
            {"uid": uuid.uuid4().hex, "contact_id": ids[who], "name": name,
             "properties": properties, "occurred_at": received - timedelta(hours=earlier),
             "received_at": received, "processed_at": received if matched else None}
        )  # fmt: skip
    return rows


def _footprint(engine: Engine) -> dict[str, Any]:
    """Everything a run of the engine could change."""
    with Session(read_only(engine)) as session:

        def count(model: Any) -> int:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())

        return {
            "enrollments": count(Enrollment),
            "steps": count(StepLog),
            "outbox": count(OutboxMessage),
            "members": count(ListMembership),
            "events": count(Event),
            "unmatched": session.execute(
                select(func.count()).select_from(Event).where(Event.processed_at.is_(None))  # type: ignore[union-attr]
            ).scalar_one(),
            "contacts": sorted(
                (c.id, c.score, c.updated_at, str(c.attributes))
                for c in session.execute(select(Contact)).scalars()
            ),
        }


async def _run_for_real(  # type: ignore[no-untyped-def]
    engine: Engine,
    redis_url: str,
    scenario_id: int,
    events: list[dict[str, Any]],
    hourly_checks: bool = False,
    activated: bool = False,
):
    """Activation at START, then each event reaches the engine when it reached us, and the
    engine's tasks run whenever something is due (as the sweep has them), up to END; with
    ``hourly_checks``, the anniversary check runs on every hour too (the cron's minute)."""
    clock = FrozenClock(START)
    if not activated:
        with session_scope(engine) as session:
            scenarios.activate(session, scenario_id, now=START)
    pool = await create_pool(redis_settings(redis_url))
    ctx = {"engine": engine, "clock": clock, "redis": pool, "lanes": 1, "chunk_size": 3,
           "running": {}, "plans": Plans()}  # fmt: skip
    hours = [
        START + timedelta(hours=h) for h in range(int((END - START).total_seconds() // 3600) + 1)
    ]

    async def run_at(moment: datetime) -> None:
        clock.current = moment
        if hourly_checks and moment in hours:
            await engine_tasks.anniversaries(ctx)
        while await engine_tasks.match_triggers(ctx) + await engine_tasks.advance(ctx):
            pass

    def next_moment(before: datetime) -> datetime | None:
        with Session(read_only(engine)) as session:
            due = select(func.min(Enrollment.wake_at)).where(Enrollment.wake_at > clock.now())  # type: ignore[operator]
            found = [session.execute(due).scalar()]
        if hourly_checks:
            found.append(next((h for h in hours if h > clock.now()), None))
        found = [moment for moment in found if moment is not None and moment < before]
        return min(found, default=None)

    try:
        await run_at(START)
        for row in events:
            while (moment := next_moment(row["received_at"])) is not None:
                await run_at(moment)
            with session_scope(engine) as session:
                session.execute(insert(Event), [row])
            await run_at(row["received_at"])
        while (moment := next_moment(END + timedelta(seconds=1))) is not None:
            await run_at(moment)
    finally:
        await pool.aclose()


def _simulate(engine: Engine, scenario_id: int, graph: dict[str, Any]) -> dict[str, Any]:
    with session_scope(engine) as session:
        simulation = Simulation(
            scenario_id=scenario_id, graph=graph, replay_days=7, horizon_days=3, as_of=AS_OF
        )
        session.add(simulation)
        session.flush()
        simulation_id = simulation.id
    assert simulation_id is not None
    assert run_simulation(engine, simulation_id, chunk_size=5) == "done"
    with Session(read_only(engine)) as session:
        done = session.get(Simulation, simulation_id)
        assert done is not None
        assert done.progress == 1.0
        return done.result


def _real_counts(engine: Engine) -> dict[str, dict[str, int]]:
    with Session(read_only(engine)) as session:
        version = session.execute(select(ScenarioVersion)).scalars().one()
        truth = version_stats(session, version)
    return {node: {k: v for k, v in c.model_dump().items() if v} for node, c in truth.nodes.items()}


def _real_journeys(engine: Engine, contacts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The step log of these contacts, as a simulation reports its sampled journeys."""
    journeys: dict[str, list[dict[str, Any]]] = {}
    with Session(read_only(engine)) as session:
        query = (
            select(StepLog)
            .where(StepLog.contact_id.in_([int(c) for c in contacts]))  # type: ignore[attr-defined]
            .order_by(StepLog.id)  # type: ignore[arg-type]
        )
        for step in session.execute(query).scalars():
            journeys.setdefault(str(step.contact_id), []).append(
                {"node_id": step.node_id, "outcome": step.outcome, "detail": step.detail,
                 "at": step.at.isoformat()}
            )  # fmt: skip
    return journeys


def _counts(predicted: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        node: {k: v for k, v in counts.items() if v} for node, counts in predicted["nodes"].items()
    }


async def test_the_simulation_predicts_what_the_engine_then_does(
    committed_engine: Engine,
    redis,  # type: ignore[no-untyped-def]
    redis_url: str,
) -> None:
    scenario_id, ids = _set_the_scene(committed_engine)
    # Before activation the events were recorded and matched by no scenario.
    with session_scope(committed_engine) as session:
        session.execute(insert(Event), _event_rows(ids, matched=True))
        simulation = Simulation(
            scenario_id=scenario_id, graph=CART, replay_days=7, horizon_days=3, as_of=AS_OF
        )
        session.add(simulation)
        session.flush()
        simulation_id = simulation.id
    before = _footprint(committed_engine)

    assert simulation_id is not None
    assert run_simulation(committed_engine, simulation_id, chunk_size=5) == "done"

    assert _footprint(committed_engine) == before  # nothing but its own row was written
    assert await redis.keys("parcours:counters:*") == []
    with Session(read_only(committed_engine)) as session:
        done = session.get(Simulation, simulation_id)
        assert done is not None
        predicted = done.result
    assert done.progress == 1.0

    # Then for real, from activation on, the same events at the same times.
    with session_scope(committed_engine) as session:
        session.execute(delete(Event))
    await _run_for_real(committed_engine, redis_url, scenario_id, _event_rows(ids, matched=False))

    with Session(read_only(committed_engine)) as session:
        version = session.execute(select(ScenarioVersion)).scalars().one()
        truth = version_stats(session, version)
        real_entered = session.execute(select(func.count()).select_from(Enrollment)).scalar_one()
        sent = Counter(session.execute(select(OutboxMessage.channel)).scalars())
        skipped = session.execute(
            select(StepLog.detail).where(StepLog.outcome == "skipped")
        ).scalars()
        skipped_texts = sorted(str(d["text"]) for d in skipped)
    # Each sampled contact's simulated journey is the one they then took: same steps, same
    # explanations, same times.
    assert {int(c) for c in predicted["journeys"]} == {ids[n] for n in PEOPLE if n != "bystander"}
    assert predicted["journeys"] == _real_journeys(committed_engine, predicted["journeys"])
    real = {node: {k: v for k, v in c.model_dump().items() if v} for node, c in truth.nodes.items()}
    simulated = {
        node: {k: v for k, v in counts.items() if v} for node, counts in predicted["nodes"].items()
    }
    assert simulated == real
    hot = await counters.read(redis, version.id)
    assert {node: {k: v for k, v in c.items() if v} for node, c in hot.items()} == {
        node: c for node, c in real.items() if c
    }
    assert predicted["entered"] == real_entered
    assert predicted["messages"] == {"email": sent["email"], "sms": sent["sms"]}
    assert sum(predicted["skipped_reasons"].values()) == len(skipped_texts)

    # And the story as told: each case did what it was written for.
    assert real["cart"] == {"entered": 12, "completed": 12}  # "twice" refused once, then in again
    assert real["loyal"] == {"entered": 12, "yes": 1, "no": 11}
    assert real["seen"] == {"entered": 11, "yes": 1, "no": 9}  # the buyer left by the goal
    assert real["remind"] == {"entered": 9, "completed": 8, "skipped": 1}
    assert real["text"] == {"entered": 9, "completed": 2, "skipped": 7}
    assert predicted["skipped_reasons"] == {"no_consent": 1, "no_address": 7}
    assert predicted["samples"]["vip"] == [ids["vip"]]
    assert predicted["samples"]["engaged"] == [ids["looker"]]
    assert ids["bought-before"] in predicted["samples"]["remind"]
    assert ids["buyer"] not in predicted["samples"]["remind"]
    assert ids["bystander"] not in predicted["samples"]["cart"]
    assert predicted["messages_per_day"][0] == {"day": "2026-03-03", "email": 1, "sms": 0}
    assert sum(day["email"] for day in predicted["messages_per_day"]) == 9


BIRTHDAY = graph(
    [
        {"id": "day", "type": "trigger", "kind": "date_anniversary",
         "config": {"attribute": "birthday", "offset_days": 0, "at": "09:00"}},
        {"id": "wish", "type": "action", "kind": "send_email", "config": {"message": "wish"}},
        {"id": "after", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
        {"id": "gift", "type": "action", "kind": "add_score", "config": {"points": 10}},
    ],
    [("day", "wish"), ("wish", "after"), ("after", "gift")],
)  # fmt: skip


async def test_birthdays_in_their_time_zones_are_predicted_too(
    committed_engine: Engine,
    redis,  # type: ignore[no-untyped-def]
    redis_url: str,
) -> None:
    """The anniversary check looks every minute; the simulation looks at each contact's
    hour in each time zone, and lets the engine's check decide whom it lets in."""
    with session_scope(committed_engine) as session:
        session.add(MessageTemplate(key="wish", name="wish", subject="Happy birthday",
                                    purpose=MessagePurpose.marketing))  # fmt: skip
        people = {
            "paris": Contact(email="p@example.com", email_consent=True,
                             birthday=date(1990, 3, 4), timezone="Europe/Paris"),
            "new-york": Contact(email="n@example.com", email_consent=True,
                                birthday=date(1985, 3, 6), timezone="America/New_York"),
            "last-month": Contact(email="l@example.com", email_consent=True,
                                  birthday=date(1992, 2, 1)),
            "no-consent": Contact(email="q@example.com", email_consent=False,
                                  birthday=date(2000, 3, 5)),
            "at-the-horizon": Contact(email="h@example.com", email_consent=True,
                                      birthday=date(1970, 3, 12), timezone="Asia/Tokyo"),
            "no-date": Contact(email="x@example.com", email_consent=True),
        }  # fmt: skip
        session.add_all(people.values())
        session.flush()
        scenario = scenarios.create_scenario(session, name="Birthday", graph=BIRTHDAY, now=START)
        scenario_id = scenario.id
    assert scenario_id is not None

    predicted = _simulate(committed_engine, scenario_id, BIRTHDAY)
    await _run_for_real(committed_engine, redis_url, scenario_id, [], hourly_checks=True)

    assert _counts(predicted) == _real_counts(committed_engine)
    assert _counts(predicted)["wish"] == {"entered": 4, "completed": 3, "skipped": 1}
    # Tokyo's birthday, 12 March 09:00 there, is on the last day: its gift is still to come.
    assert _counts(predicted)["after"] == {"entered": 4, "completed": 3, "waiting": 1}
    assert predicted["journeys"] == _real_journeys(committed_engine, predicted["journeys"])
    with Session(read_only(committed_engine)) as session:
        scores = {c.email: c.score for c in session.execute(select(Contact)).scalars()}
    assert scores["p@example.com"] == 10  # for real, and only for real


NEWSLETTER = graph(
    [
        {"id": "joined", "type": "trigger", "kind": "list_added", "config": {"list": "news"}},
        {"id": "hello", "type": "action", "kind": "send_email", "config": {"message": "hello"}},
        {"id": "later", "type": "delay", "kind": "wait", "config": {"seconds": 2 * 86400}},
        {"id": "keen", "type": "condition", "kind": "if",
         "config": {"if": {"event": "page_viewed", "op": "count_gte", "value": 2}}},
        {"id": "offer", "type": "action", "kind": "send_email", "config": {"message": "offer"}},
    ],
    [("joined", "hello"), ("hello", "later"), ("later", "keen"), ("keen", "yes", "offer")],
    reentry="once",
)  # fmt: skip


async def test_existing_contacts_let_in_are_predicted_as_the_activation_lets_them_in(
    committed_engine: Engine,
    redis,  # type: ignore[no-untyped-def]
    redis_url: str,
) -> None:
    """include_existing: the list's members now enter at the start, as an activation with
    its existing contacts lets them in; a member who joins again later is kept out (once),
    and a newcomer of the replayed days enters when they joined."""
    with session_scope(committed_engine) as session:
        for key in ("hello", "offer"):
            session.add(MessageTemplate(key=key, name=key, subject=key,
                                        purpose=MessagePurpose.marketing))  # fmt: skip
        news = ContactList(key="news", name="News")
        session.add(news)
        people = [Contact(email=f"m{i}@example.com", email_consent=i != 2) for i in range(6)]
        session.add_all(people)
        session.flush()
        for member in people[:4]:
            session.add(ListMembership(list_id=news.id, contact_id=member.id))  # type: ignore[arg-type]
        scenario = scenarios.create_scenario(session, name="News", graph=NEWSLETTER, now=START)
        scenario_id, ids = scenario.id, [p.id for p in people]
    assert scenario_id is not None
    story = [
        (5, ids[0], "page_viewed", {}), (6, ids[0], "page_viewed", {}),
        (20, ids[1], "list_added", {"list": "news"}),  # joined again: once, kept out
        (30, ids[4], "list_added", {"list": "news"}),  # a newcomer
        (31, ids[4], "page_viewed", {}), (40, ids[4], "page_viewed", {}),
        (50, ids[5], "page_viewed", {}),  # never joins
    ]  # fmt: skip
    rows = [
        {"uid": uuid.uuid4().hex, "contact_id": who, "name": name, "properties": props,
         "occurred_at": START + timedelta(hours=h), "received_at": START + timedelta(hours=h)}
        for h, who, name, props in story
    ]  # fmt: skip
    with session_scope(committed_engine) as session:
        session.execute(insert(Event), [{**r, "processed_at": r["received_at"]} for r in rows])
        simulation = Simulation(scenario_id=scenario_id, graph=NEWSLETTER, replay_days=7,
                                horizon_days=3, as_of=AS_OF, include_existing=True)  # fmt: skip
        session.add(simulation)
        session.flush()
        simulation_id = simulation.id
    assert simulation_id is not None
    assert run_simulation(committed_engine, simulation_id, chunk_size=2) == "done"
    with Session(read_only(committed_engine)) as session:
        done = session.get(Simulation, simulation_id)
        assert done is not None
        predicted = done.result

    with session_scope(committed_engine) as session:
        session.execute(delete(Event))
        existing_contacts.activate(
            session, scenario_id, now=START, include_existing=True, per_hour=None
        )
    await _run_for_real(committed_engine, redis_url, scenario_id, rows, activated=True)

    assert _counts(predicted) == _real_counts(committed_engine)
    assert _counts(predicted)["joined"] == {"entered": 5, "completed": 5}
    assert _counts(predicted)["keen"] == {"entered": 5, "yes": 2, "no": 3}
    assert predicted["journeys"] == _real_journeys(committed_engine, predicted["journeys"])
