"""Static lists of contacts, addressed by a stable key; memberships change in bulk.

Adding or removing members records ``list_added`` / ``list_removed`` events (only for the
memberships that really changed) in the same transaction, for the triggers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col

from app.i18n import _
from app.models import ContactList, ListMembership
from app.services.contacts.contacts import LIST_ADDED, LIST_REMOVED, change_event, record_events
from app.services.errors import Conflict, Invalid, NotFound
from app.services.keys import key_or_derived
from app.services.scenarios.usage import drafts_warning, refuse_if_live, scenarios_using
from app.services.unique_rows import add_unique

MEMBERSHIPS = SQLModel.metadata.tables["list_memberships"]
CHUNK = 500


@dataclass(frozen=True)
class ListSummary:
    list: ContactList
    members: int


def lists_with_counts(session: Session) -> list[ListSummary]:
    members = (
        select(col(ListMembership.list_id), func.count().label("n"))
        .group_by(col(ListMembership.list_id))
        .subquery()
    )
    rows = session.execute(
        select(ContactList, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.list_id == ContactList.id)
        .order_by(col(ContactList.name))
    ).all()
    return [ListSummary(list=row[0], members=int(row[1])) for row in rows]


def all_lists(session: Session) -> Sequence[ContactList]:
    return session.scalars(select(ContactList).order_by(col(ContactList.name))).all()


def list_names(session: Session) -> dict[str, str]:
    """Every list's name by key: what screens show where the data holds a key."""
    return dict(session.execute(select(col(ContactList.key), col(ContactList.name))).all())


def create_list(
    session: Session, *, key: str, name: str, description: str = "", now: datetime
) -> ContactList:
    """Creates the list; without a ``key``, one is derived from the name (``clients-fideles``)."""
    name = _list_name(name)
    key = key_or_derived(session, col(ContactList.key), key, name)
    if session.scalars(select(ContactList).where(col(ContactList.key) == key)).first():
        raise Conflict(_("A list with the key %(key)s already exists.") % {"key": repr(key)})
    contact_list = ContactList(key=key, name=name, description=description.strip(), created_at=now)
    if not add_unique(session, contact_list):
        raise Conflict(_("A list with the key %(key)s already exists.") % {"key": repr(key)})
    return contact_list


def _list_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid(_("Give the list a name, e.g. Newsletter."))
    if len(name) > 200:
        raise Invalid(_("The list name is longer than 200 characters."))
    return name


def rename_list(
    session: Session, contact_list: ContactList, *, name: str, description: str | None = None
) -> ContactList:
    """A new name (and description); the key stays, so scenarios and the shop's code still
    find the list."""
    contact_list.name = _list_name(name)
    if description is not None:
        contact_list.description = description.strip()
    session.add(contact_list)
    session.flush()
    return contact_list


def delete_list(session: Session, contact_list: ContactList) -> str | None:
    """Deletes the list and its memberships (one statement, no ``list_removed`` events: the
    list is gone, not its members). Refused while a live scenario uses it; returns what the
    drafts that used it must know, if any."""
    usage = scenarios_using(session, "list", contact_list.key)
    refuse_if_live(usage, contact_list.name)
    session.execute(delete(MEMBERSHIPS).where(MEMBERSHIPS.c.list_id == contact_list.id))
    session.delete(contact_list)
    session.flush()
    return drafts_warning(usage)


def get_list(session: Session, key: str) -> ContactList:
    found = session.scalars(select(ContactList).where(col(ContactList.key) == key)).first()
    if found is None:
        raise NotFound(_("There is no list with the key %(key)s.") % {"key": repr(key)})
    return found


def lists_by_keys(session: Session, keys: Iterable[str]) -> dict[str, ContactList]:
    """The lists named by ``keys``; Invalid (naming each unknown key) if any is missing."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    found = {
        lst.key: lst
        for lst in session.scalars(select(ContactList).where(col(ContactList.key).in_(wanted)))
    }
    missing = [key for key in wanted if key not in found]
    if missing:
        names = ", ".join(repr(key) for key in missing)
        raise Invalid(
            _("No list with the key %(keys)s: create it first (POST /api/v1/lists).")
            % {"keys": names}
        )
    return found


def member_count(session: Session, list_id: int) -> int:
    query = select(func.count()).select_from(MEMBERSHIPS).where(MEMBERSHIPS.c.list_id == list_id)
    return int(session.execute(query).scalar_one())


def add_members(
    session: Session,
    lists: Sequence[ContactList],
    contact_ids: Iterable[int],
    *,
    now: datetime,
    source: str,
) -> int:
    """Adds every contact to every list; returns how many memberships are new."""
    ids = sorted(set(contact_ids))
    keys = {lst.id: lst.key for lst in lists}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(ids), CHUNK):
        rows = [
            {"list_id": list_id, "contact_id": cid, "added_at": now, "source": source[:50]}
            for list_id in keys
            for cid in ids[start : start + CHUNK]
        ]
        if not rows:
            continue
        statement = (
            insert(MEMBERSHIPS)
            .on_conflict_do_nothing()
            .returning(MEMBERSHIPS.c.list_id, MEMBERSHIPS.c.contact_id)
        )
        new = session.execute(statement, rows).all()
        record_events(
            session,
            [change_event(cid, LIST_ADDED, {"list": keys[lid]}, now) for lid, cid in new],
        )
        added += len(new)
    return added


def remove_members(
    session: Session,
    lists: Sequence[ContactList],
    contact_ids: Iterable[int],
    *,
    now: datetime,
) -> int:
    """Removes every contact from every list; returns how many memberships went."""
    ids = sorted(set(contact_ids))
    keys = {lst.id: lst.key for lst in lists}
    removed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        statement = (
            delete(MEMBERSHIPS)
            .where(and_(MEMBERSHIPS.c.list_id.in_(list(keys)), MEMBERSHIPS.c.contact_id.in_(chunk)))
            .returning(MEMBERSHIPS.c.list_id, MEMBERSHIPS.c.contact_id)
        )
        gone = session.execute(statement).all()
        record_events(
            session,
            [change_event(cid, LIST_REMOVED, {"list": keys[lid]}, now) for lid, cid in gone],
        )
        removed += len(gone)
    return removed


def member_ids_page(session: Session, list_id: int, *, before: int | None, limit: int) -> list[int]:
    """Member contact ids, newest contact first, ``limit`` after the ``before`` cursor (keyset
    on the membership primary key, so page 1,000 costs what page 1 does)."""
    query = select(MEMBERSHIPS.c.contact_id).where(MEMBERSHIPS.c.list_id == list_id)
    if before is not None:
        query = query.where(MEMBERSHIPS.c.contact_id < before)
    query = query.order_by(MEMBERSHIPS.c.contact_id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def contact_list_keys(session: Session, contact_ids: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {cid: [] for cid in contact_ids}
    if not contact_ids:
        return result
    rows = session.execute(
        select(MEMBERSHIPS.c.contact_id, col(ContactList.key))
        .join(ContactList, col(ContactList.id) == MEMBERSHIPS.c.list_id)
        .where(MEMBERSHIPS.c.contact_id.in_(list(contact_ids)))
        .order_by(col(ContactList.key))
    )
    for contact_id, key in rows:
        result[contact_id].append(key)
    return result
