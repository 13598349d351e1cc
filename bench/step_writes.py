"""Why the engine works in chunks: writing contact-steps one by one vs in bulk.

A contact-step moves an enrollment to its next block and writes a step-log row. The baseline
does what a naive engine does (one ORM transaction per contact-step); the design writes a chunk
of contact-steps with two bulk statements in one transaction. Both run in the same process on
the same fresh database, on SQLite and, when PARCOURS_BENCH_POSTGRES_URL (or
PARCOURS_TEST_POSTGRES_URL) is set, on PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import bindparam, insert, text, update
from sqlmodel import Session, SQLModel

sys.path.insert(0, str(Path(__file__).parents[1]))

from app.clock import utcnow
from app.db import create_db_engine
from app.migrate import upgrade
from app.models import Contact, Enrollment, Scenario, ScenarioVersion, StepLog
from bench._databases import on_each_database

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "4000"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "1000"))
CHUNK = 500
ENROLLMENTS = SQLModel.metadata.tables["enrollments"]


def prepare(engine) -> tuple[int, int, list[int]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        scenario = Scenario(name="bench")
        session.add(scenario)
        session.flush()
        version = ScenarioVersion(scenario_id=scenario.id, number=1)  # type: ignore[arg-type]
        session.add(version)
        session.flush()
        now = utcnow()
        session.execute(
            insert(Contact),
            [
                {
                    "email": f"b{i}@bench.example",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                    "timezone": "UTC",
                    "score": 0,
                    "email_consent": True,
                    "sms_consent": False,
                }
                for i in range(CONTACTS)
            ],
        )
        contact_ids = [r[0] for r in session.execute(text("SELECT id FROM contacts ORDER BY id"))]
        session.execute(
            insert(Enrollment),
            [
                {
                    "scenario_id": scenario.id,
                    "version_id": version.id,
                    "contact_id": cid,
                    "node_id": "start",
                    "state": "active",
                    "seq": 0,
                    "context": {},
                    "attempts": 0,
                    "entered_at": now,
                    "updated_at": now,
                }
                for cid in contact_ids
            ],
        )
        session.commit()
        ids = [r[0] for r in session.execute(text("SELECT id FROM enrollments ORDER BY id"))]
        return scenario.id, version.id, ids  # type: ignore[return-value]


def naive(engine, scenario_id: int, version_id: int, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for enrollment_id in ids:
        with Session(engine) as session:
            enrollment = session.get(Enrollment, enrollment_id)
            assert enrollment is not None
            enrollment.seq += 1
            enrollment.node_id = "welcome"
            enrollment.updated_at = utcnow()
            session.add(
                StepLog(
                    enrollment_id=enrollment_id,
                    scenario_id=scenario_id,
                    version_id=version_id,
                    contact_id=enrollment.contact_id,
                    node_id="start",
                    seq=enrollment.seq,
                    outcome="completed",
                )
            )
            session.commit()
    return len(ids) / (time.perf_counter() - start)


def chunked(engine, scenario_id: int, version_id: int, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        now = utcnow()
        with Session(engine) as session:
            rows = session.execute(
                text("SELECT id, contact_id, seq FROM enrollments WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            ).all()
            session.execute(
                update(ENROLLMENTS)
                .where(ENROLLMENTS.c.id == bindparam("eid"))
                .values(seq=bindparam("new_seq"), node_id="welcome", updated_at=now),
                [{"eid": r.id, "new_seq": r.seq + 1} for r in rows],
            )
            session.execute(
                insert(StepLog),
                [
                    {
                        "enrollment_id": r.id,
                        "scenario_id": scenario_id,
                        "version_id": version_id,
                        "contact_id": r.contact_id,
                        "node_id": "start",
                        "seq": r.seq + 1,
                        "outcome": "completed",
                        "at": now,
                    }
                    for r in rows
                ],
            )
            session.commit()
    return len(ids) / (time.perf_counter() - start)


def run(label: str, url: str) -> None:
    upgrade(url)
    engine = create_db_engine(url)
    scenario_id, version_id, ids = prepare(engine)
    baseline = naive(engine, scenario_id, version_id, ids[:NAIVE_SAMPLE])
    design = chunked(engine, scenario_id, version_id, ids[NAIVE_SAMPLE:])
    engine.dispose()
    print(f"{label:<11} one transaction per contact-step (baseline): {baseline:>9,.0f} steps/s")
    print(
        f"{label:<11} chunks of {CHUNK} with bulk SQL (design):      {design:>9,.0f} steps/s"
        f"   ratio x{design / baseline:,.1f}"
    )


def main() -> None:
    on_each_database(run, "bench")


if __name__ == "__main__":
    main()
