"""Static lists of contacts, addressed by key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.models import ContactList, ListMembership


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
