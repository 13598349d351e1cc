"""The CSV import runs in a real arq worker against the real database and Redis."""

from __future__ import annotations

from typing import Any

import pytest
from arq.worker import Worker
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.db import session_scope
from app.models import Contact, ContactImport, ContactList, Event, ImportStatus, ListMembership
from app.queue import Queue
from app.services.contacts import gdpr
from app.services.contacts import import_ as contact_import
from app.services.contacts import import_run as contact_import_run
from app.services.contacts.contacts import upsert_contact
from app.services.contacts.fields import ContactData
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings

CSV = (
    "E-mail;Prénom;Nom;Ville;Commandes;Newsletter;Anniversaire\n"
    "lea@example.com;Léa;Martin;Lyon;3;oui;1990-04-25\n"
    "not-an-email;Hugo;Petit;Paris;1;non;\n"
    "known@example.com;Karim;Known;Nantes;2;yes;\n"
    ";Nobody;Here;Lille;0;no;\n"
    "hugo@example.com;Hugo;Dubois;Paris;many;no;\n"
    "erased@example.com;Eve;Gone;Paris;1;yes;\n"
    "ines@example.com;Inès;Robert;Lyon;1;yes;25/04/1990\n"
)


def make_worker(redis_url: str, engine: Engine, clock: FrozenClock) -> Worker:
    return Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        ctx={"engine": engine, "clock": clock},
        handle_signals=False,
    )


def prepare(engine: Engine, clock: FrozenClock, content: str = CSV) -> int:
    with session_scope(engine) as session:
        session.add(ContactList(key="imported", name="Imported"))
        upsert_contact(
            session,
            ContactData(fields={"email": "known@example.com", "first_name": "K"}),
            now=clock.now(),
            source="api",
        )
        erased = upsert_contact(
            session,
            ContactData(fields={"email": "erased@example.com"}),
            now=clock.now(),
            source="api",
        ).contact
        session.flush()
        assert erased.id is not None
        gdpr.erase_contact(session, erased.id, clock.now())
        upload = contact_import.create_import(
            session,
            filename="shop.csv",
            raw=content.encode(),
            max_bytes=10_000_000,
            created_by_id=None,
            now=clock.now(),
        )
        mapping = dict(upload.mapping)
        mapping["Commandes"] = {"field": "attribute", "name": "commandes", "type": "number"}
        contact_import.set_mapping(
            session, upload, mapping, list_key="imported", consent_source="shop 2024"
        )
        assert upload.id is not None
        return upload.id


async def run(redis_url: str, engine: Engine, clock: FrozenClock, import_id: int) -> None:
    queue = await Queue.connect(redis_url)
    await queue.enqueue("import_contacts", import_id, 0, job_id=f"import:{import_id}:0")
    worker = make_worker(redis_url, engine, clock)
    await worker.main()
    await worker.close()
    await queue.close()


async def test_the_worker_imports_good_rows_and_reports_each_bad_one(
    redis_url: str, redis: Any, committed_engine: Engine
) -> None:
    clock = FrozenClock()
    import_id = prepare(committed_engine, clock)

    await run(redis_url, committed_engine, clock, import_id)

    with Session(committed_engine) as session:
        upload = session.get(ContactImport, import_id)
        assert upload is not None
        assert upload.status == ImportStatus.done
        assert (upload.processed_rows, upload.total_rows) == (7, 7)
        assert (upload.created_count, upload.updated_count, upload.rejected_count) == (1, 1, 5)
        lea = session.scalars(select(Contact).where(Contact.email == "lea@example.com")).one()
        assert (lea.first_name, lea.last_name) == ("Léa", "Martin")
        assert lea.attributes == {"ville": "Lyon", "commandes": 3}
        assert lea.email_consent is True
        assert lea.email_consent_source == "shop 2024"
        assert str(lea.birthday) == "1990-04-25"
        known = session.scalars(select(Contact).where(Contact.email == "known@example.com")).one()
        assert known.first_name == "Karim"
        changes = session.scalars(
            select(Event.properties).where(
                Event.contact_id == known.id, Event.name == "attribute_changed"
            )
        ).all()
        assert {"attribute": "first_name", "from": "K", "to": "Karim"} in changes
        members = session.execute(select(func.count()).select_from(ListMembership)).scalar()
        assert members == 2
        report = "".join(contact_import.rejection_report(session, upload))
    lines = report.strip().splitlines()
    assert lines[0].startswith("row,reason,E-mail")
    reasons = {line.split(",")[0]: line for line in lines[1:]}
    assert set(reasons) == {"3", "5", "6", "7", "8"}
    assert "not a valid email address" in reasons["3"]
    assert "no email" in reasons["5"]
    assert "not a number" in reasons["6"]
    assert "erased on request" in reasons["7"]
    assert "YYYY-MM-DD" in reasons["8"]


async def test_a_large_file_is_worked_through_in_slices_that_hand_over(
    redis_url: str, redis: Any, committed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import worker.contact_import as task

    monkeypatch.setattr(contact_import_run, "CHUNK", 10)
    monkeypatch.setattr(task, "SLICE_SECONDS", 0.0)  # one chunk per job, then the next job
    clock = FrozenClock()
    rows = "".join(f"p{n}@example.com;P{n};X;Lyon;{n};yes;\n" for n in range(35))
    import_id = prepare(committed_engine, clock, CSV.splitlines()[0] + "\n" + rows)

    await run(redis_url, committed_engine, clock, import_id)

    with Session(committed_engine) as session:
        upload = session.get(ContactImport, import_id)
        assert upload is not None
        assert upload.status == ImportStatus.done
        assert (upload.processed_rows, upload.created_count) == (35, 35)
        count = select(func.count()).where(Event.name == "contact_created")
        assert (
            session.execute(count).scalar() == 35 + 1
        )  # and the known contact (the erased one left none)
