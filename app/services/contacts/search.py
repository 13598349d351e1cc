"""The contacts page's search: text, a list or a segment, one attribute test; keyset pages.

Pages are cut on the contact id (``id < cursor ORDER BY id DESC LIMIT n``), never with OFFSET,
so the thousandth page of a million contacts costs what the first does. Inside a list the walk
follows the membership primary key ``(list_id, contact_id)`` instead, for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.graph import AllCondition, AttributeCondition, Condition
from app.graph.conditions import DAYS_OPS, NUMBER_OPS, PRESENCE_OPS
from app.i18n import N_, _
from app.models import Contact, ContactList, Segment
from app.services.contacts.condition_sql import CONTACTS, ConditionSql
from app.services.contacts.lists import MEMBERSHIPS
from app.services.contacts.segments import condition_problem, segment_condition
from app.services.errors import Invalid

PAGE_SIZE = 50
# The filter bar's tests, in English (translated where shown); the graph's OP_WORDS, less the
# date tests.
FILTER_OPS: dict[str, str] = {
    "eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "contains": N_("contains"), "starts_with": N_("starts with"), "in": N_("is one of"),
    "exists": N_("is set"), "not_exists": N_("is not set"),
    "within_last_days": N_("is within the last"), "older_than_days": N_("is more than"),
}  # fmt: skip


@dataclass(frozen=True)
class ContactFilter:
    q: str = ""
    scope: str = ""  # "", "list:<key>" or "segment:<key>"
    attribute: str = ""
    op: str = "eq"
    value: str = ""

    @property
    def active(self) -> bool:
        return bool(self.q or self.scope or self.attribute)

    def query_string(self, **extra: object) -> str:
        params = {
            ("in" if k == "scope" else k): v
            for k, v in vars(self).items()
            if v and not (k in ("op", "value") and not self.attribute)
        }
        params.update({k: str(v) for k, v in extra.items() if v is not None})
        return urlencode(params)


@dataclass(frozen=True)
class ContactPage:
    contacts: Sequence[Contact]
    next_cursor: int | None
    total: int | None  # known cheaply: the whole base, or a list's members
    scope_name: str | None = None


def attribute_condition(attribute: str, op: str, value: str) -> AttributeCondition:
    """The attribute test of the filter bar, with the value typed as the operator needs."""
    typed: Any = value.strip()
    if op in PRESENCE_OPS:
        typed = None
    elif op in NUMBER_OPS or op in DAYS_OPS:
        try:
            number = float(typed)
        except ValueError:
            words = _(FILTER_OPS.get(op, op))
            raise Invalid(_("'%(test)s' needs a number.") % {"test": words}) from None
        typed = int(number) if op in DAYS_OPS or number.is_integer() else number
    elif op == "in":
        typed = [part.strip() for part in typed.split(",") if part.strip()]
    try:
        return AttributeCondition.model_validate(
            {"attribute": attribute.strip(), "op": op, "value": typed}
        )
    except ValidationError as error:
        problem = condition_problem(error)
        raise Invalid(
            _("The filter is not complete: %(problem)s.") % {"problem": problem}
        ) from None


def search_contacts(
    session: Session, wanted: ContactFilter, now: datetime, *, before: int | None
) -> ContactPage:
    dialect = session.get_bind().dialect.name
    conditions: list[Condition] = []
    list_id: int | None = None
    scope_name = None
    kind, _colon, key = wanted.scope.partition(":")
    if kind == "list":
        found = session.scalars(select(ContactList).where(col(ContactList.key) == key)).first()
        if found is None:
            raise Invalid(_("There is no list with the key %(key)s.") % {"key": repr(key)})
        list_id, scope_name = found.id, found.name
    elif kind == "segment":
        segment = session.scalars(select(Segment).where(col(Segment.key) == key)).first()
        if segment is None:
            raise Invalid(_("There is no segment with the key %(key)s.") % {"key": repr(key)})
        conditions.append(segment_condition(segment))
        scope_name = segment.name
    if wanted.attribute.strip():
        conditions.append(attribute_condition(wanted.attribute, wanted.op, wanted.value))

    filters: list[ColumnElement[bool]] = []
    if conditions:
        compiler = ConditionSql(dialect, now)
        filters.append(compiler.contact_filter(AllCondition.model_validate({"all": conditions})))
    if wanted.q.strip():
        filters.append(_text_match(wanted.q.strip()))

    if list_id is not None:
        query = (
            select(Contact)
            .join(MEMBERSHIPS, MEMBERSHIPS.c.contact_id == col(Contact.id))
            .where(MEMBERSHIPS.c.list_id == list_id, *filters)
        )
        if before is not None:
            query = query.where(MEMBERSHIPS.c.contact_id < before)
        query = query.order_by(MEMBERSHIPS.c.contact_id.desc())
    else:
        query = select(Contact).where(*filters)
        if before is not None:
            query = query.where(col(Contact.id) < before)
        query = query.order_by(col(Contact.id).desc())
    contacts = session.scalars(query.limit(PAGE_SIZE)).all()
    next_cursor = contacts[-1].id if len(contacts) == PAGE_SIZE else None

    total = None
    if not wanted.active:
        total = int(session.execute(select(func.count()).select_from(CONTACTS)).scalar_one())
    elif list_id is not None and not filters:
        counted = (
            select(func.count()).select_from(MEMBERSHIPS).where(MEMBERSHIPS.c.list_id == list_id)
        )
        total = int(session.execute(counted).scalar_one())
    return ContactPage(contacts, next_cursor, total, scope_name)


def _text_match(q: str) -> ColumnElement[bool]:
    """An email prefix (a range on the unique email index) or a first/last name prefix (a scan
    that stops at the first page of matches, so common names are quick, rare ones slower)."""
    lowered = q.lower()
    email_prefix = and_(CONTACTS.c.email >= lowered, CONTACTS.c.email < lowered + "\uffff")
    if "@" in q:  # an email: the unique index answers alone, whatever the size of the base
        return email_prefix
    pattern = q.replace("\\", "").replace("%", "").replace("_", "") + "%"
    return or_(
        email_prefix,
        col(Contact.first_name).ilike(pattern),
        col(Contact.last_name).ilike(pattern),
    )
