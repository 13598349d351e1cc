"""Conditions as SQL: which contacts of a chunk (or of the whole base) match, in one query.

This is the bulk twin of ``app.graph.evaluate`` and follows the value rules documented there
and in ``app.graph.coercion`` exactly: the SQL functions ``parcours_number``,
``parcours_epoch_us`` and ``parcours_fold`` carry those rules into the database (registered
from Python on SQLite, created by migration 0002 on PostgreSQL). Every leaf yields TRUE or FALSE,
never NULL, so ``not`` inverts cleanly. ``tests/db/test_condition_sql.py`` checks with random
conditions and contacts that both evaluators agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Float,
    and_,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from app.graph.coercion import (
    ONE_DAY,
    as_instant,
    as_number,
    as_utc,
    fold,
    is_date_only,
    shifted,
)
from app.graph.conditions import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    ListCondition,
    NotCondition,
)
from app.graph.sql_functions import instant_us as _us

Expr = ColumnElement[Any]
Bool = ColumnElement[bool]
Kind = Literal["text", "number", "date", "datetime"]

CONTACTS = SQLModel.metadata.tables["contacts"]
EVENTS = SQLModel.metadata.tables["events"]
LISTS = SQLModel.metadata.tables["lists"]
MEMBERSHIPS = SQLModel.metadata.tables["list_memberships"]

BUILTIN_KINDS: dict[str, Kind] = {
    "email": "text",
    "phone": "text",
    "first_name": "text",
    "last_name": "text",
    "timezone": "text",
    "score": "number",
    "birthday": "date",
    "created_at": "datetime",
}


@dataclass(frozen=True)
class Operand:
    """One attribute's value, seen through the value rules. Each part is NULL when it does not
    apply: ``text`` for text (and calendar days), ``number`` for numbers and numeric text,
    ``epoch`` for dates, ``boolean`` for JSON booleans."""

    missing: Bool
    text: Expr | None = None
    number: Expr | None = None
    epoch: Expr | None = None
    boolean: Expr | None = None
    is_number: Bool | None = None  # a real number, not numeric text


def _bool(expr: Expr) -> Bool:
    return func.coalesce(expr, false())


class ConditionSql:
    """Compiles conditions for one database dialect at one instant."""

    def __init__(self, dialect: str, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.postgres = dialect == "postgresql"
        self.now = as_utc(now)

    # --- entry points ---------------------------------------------------------------------

    def contact_filter(self, condition: Condition) -> Bool:
        """A WHERE clause over ``contacts``."""
        return self._compile(condition, properties=None)

    # --- the language ---------------------------------------------------------------------

    def _compile(self, condition: Condition, properties: Expr | None) -> Bool:
        if isinstance(condition, AllCondition):
            parts = [self._compile(c, properties) for c in condition.conditions]
            return and_(true(), *parts) if parts else true()
        if isinstance(condition, AnyCondition):
            parts = [self._compile(c, properties) for c in condition.conditions]
            return or_(false(), *parts) if parts else false()
        if isinstance(condition, NotCondition):
            return not_(self._compile(condition.inner, properties))
        if isinstance(condition, AttributeCondition):
            return self._attribute(condition, self._operand(condition.attribute, properties))
        if isinstance(condition, EventCondition):
            return self._event(condition, properties)
        if isinstance(condition, ListCondition):
            return self._list(condition, properties)
        return self._consent(condition, properties)

    def _attribute(self, condition: AttributeCondition, value: Operand) -> Bool:
        op, expected = condition.op, condition.value
        if op == "exists":
            return not_(value.missing)
        if op == "not_exists":
            return value.missing
        test = self._test(op, expected, value)
        return and_(not_(value.missing), _bool(test))

    def _test(self, op: str, expected: object, value: Operand) -> Expr:
        if op == "eq":
            return self._equals(value, expected)
        if op == "ne":
            return not_(_bool(self._equals(value, expected)))
        if op == "in":
            if not isinstance(expected, list):
                return false()
            return self._one_of(value, expected)
        if op in ("gt", "gte", "lt", "lte"):
            bound = as_number(expected)
            if value.number is None or bound is None:
                return false()
            comparisons = {
                "gt": value.number > bound,
                "gte": value.number >= bound,
                "lt": value.number < bound,
                "lte": value.number <= bound,
            }
            return comparisons[op]
        if op in ("contains", "starts_with"):
            if value.text is None or not isinstance(expected, str):
                return false()
            folded, needle = func.parcours_fold(value.text), fold(expected)
            if op == "contains":
                position = func.strpos if self.postgres else func.instr
                return position(folded, needle) > 0
            return func.substr(folded, 1, len(needle)) == needle
        return self._date_test(op, expected, value)

    def _date_test(self, op: str, expected: object, value: Operand) -> Expr:
        if value.epoch is None:
            return false()
        now_us = _us(self.now)
        if op in ("within_last_days", "older_than_days"):
            days = expected if isinstance(expected, int) else 0
            since = shifted(self.now, -timedelta(days=days)) or datetime.min.replace(tzinfo=UTC)
            since_us = _us(since)
            if op == "within_last_days":
                return and_(value.epoch >= since_us, value.epoch <= now_us)
            return value.epoch < since_us
        bound = as_instant(expected)
        if bound is None:
            return false()
        if op == "before":
            return value.epoch < _us(bound)
        if not is_date_only(expected):
            return value.epoch > _us(bound)
        next_day = shifted(bound, ONE_DAY)
        return false() if next_day is None else value.epoch >= _us(next_day)

    def _equals(self, value: Operand, expected: object) -> Expr:
        if isinstance(expected, bool):
            if value.boolean is None:
                return false()
            return value.boolean == literal(expected)
        if isinstance(expected, int | float):
            number = as_number(expected)
            if value.number is None or number is None:
                return false()
            return value.number == number
        if not isinstance(expected, str):
            return false()
        as_text = (
            func.parcours_fold(value.text) == fold(expected) if value.text is not None else false()
        )
        number = as_number(expected)
        if value.is_number is None or value.number is None or number is None:
            return _bool(as_text)
        # Text compares as text; only a real number compares with numeric text.
        same_number = and_(_bool(value.is_number), value.number == number)
        return or_(_bool(as_text), same_number)

    def _one_of(self, value: Operand, expected: list[object]) -> Bool:
        """``eq`` to at least one value, as one SQL ``IN`` per kind of value rather than one
        equality per value: each equality would repeat the attribute's whole expression, and a
        list of 500 would make a statement of megabytes. The rules are ``_equals``'s."""
        texts = [item for item in expected if isinstance(item, str)]
        numbers = [
            number
            for item in expected
            if isinstance(item, int | float)
            and not isinstance(item, bool)
            and (number := as_number(item)) is not None
        ]
        numeric_texts = [number for text in texts if (number := as_number(text)) is not None]
        parts: list[Expr] = [
            self._equals(value, item) for item in {i for i in expected if isinstance(i, bool)}
        ]
        if numbers and value.number is not None:
            parts.append(value.number.in_(sorted(set(numbers))))
        if texts and value.text is not None:
            folded = sorted({fold(text) for text in texts})
            parts.append(func.parcours_fold(value.text).in_(folded))
        if numeric_texts and value.is_number is not None and value.number is not None:
            # Text compares as text; only a real number compares with numeric text.
            same = value.number.in_(sorted(set(numeric_texts)))
            parts.append(and_(_bool(value.is_number), same))
        return or_(false(), *[_bool(part) for part in parts])

    def _event(self, condition: EventCondition, properties: Expr | None) -> Bool:
        wanted = condition.value or 0
        if properties is not None:  # inside an event filter there are no events: count is 0
            count: Any = 0
        else:
            filters = [
                EVENTS.c.contact_id == CONTACTS.c.id,
                EVENTS.c.name == condition.event,
                EVENTS.c.occurred_at <= self.now,
            ]
            since = shifted(self.now, -timedelta(days=condition.within_days or 0))
            if condition.within_days and since is not None:
                filters.append(EVENTS.c.occurred_at >= since)
            if condition.where is not None:
                filters.append(self._compile(condition.where, EVENTS.c.properties))
            count = select(func.count()).where(*filters).scalar_subquery()
        if condition.op == "count_gte":
            result = count >= wanted
        elif condition.op == "count_lt":
            result = count < wanted
        else:
            result = count == 0
        return literal(result) if isinstance(result, bool) else result

    def _list(self, condition: ListCondition, properties: Expr | None) -> Bool:
        if properties is not None:  # event properties belong to no list
            return literal(condition.op == "not_member")
        member = exists(
            select(1)
            .select_from(MEMBERSHIPS.join(LISTS, LISTS.c.id == MEMBERSHIPS.c.list_id))
            .where(MEMBERSHIPS.c.contact_id == CONTACTS.c.id, LISTS.c.key == condition.list_key)
        )
        return member if condition.op == "member" else not_(member)

    def _consent(self, condition: ConsentCondition, properties: Expr | None) -> Bool:
        if properties is not None:
            return literal(condition.op == "not_granted")
        column = (
            CONTACTS.c.email_consent if condition.channel == "email" else CONTACTS.c.sms_consent
        )
        granted = _bool(column == true())
        return granted if condition.op == "granted" else not_(granted)

    # --- values -----------------------------------------------------------------------------

    def _operand(self, attribute: str, properties: Expr | None) -> Operand:
        if properties is None and attribute in BUILTIN_KINDS:
            return self._column(CONTACTS.c[attribute], BUILTIN_KINDS[attribute])
        container = CONTACTS.c.attributes if properties is None else properties
        return self._json(container, attribute)

    def _column(self, column: Expr, kind: Kind) -> Operand:
        if kind == "text":
            return Operand(
                missing=or_(column.is_(None), column == ""),
                text=column,
                number=func.parcours_number(column),
                is_number=false(),
            )
        if kind == "number":
            return Operand(missing=column.is_(None), number=cast(column, Float), is_number=true())
        if kind == "date":
            text = func.to_char(column, "YYYY-MM-DD") if self.postgres else column
            return Operand(missing=column.is_(None), text=text, epoch=func.parcours_epoch_us(text))
        epoch = (
            cast(extract("epoch", column) * 1_000_000, BigInteger)
            if self.postgres
            else func.parcours_epoch_us(column)
        )
        return Operand(missing=column.is_(None), epoch=epoch)

    def _json(self, container: Expr, key: str) -> Operand:
        kind: Expr
        raw: Expr
        number_kinds: tuple[str, ...]
        bool_kinds: tuple[str, ...]
        if self.postgres:
            kind = func.jsonb_typeof(container.op("->")(key))
            raw = container.op("->>")(key)
            text_kind, number_kinds, bool_kinds = "string", ("number",), ("boolean",)
        else:
            path = '$."' + key.replace('"', '\\"') + '"'
            kind = func.json_type(container, path)
            raw = func.json_extract(container, path)
            text_kind, number_kinds, bool_kinds = "text", ("integer", "real"), ("true", "false")
        as_float = cast(raw, Float)
        text = case((kind == text_kind, raw))
        is_number = kind.in_(number_kinds)
        number = case((is_number, as_float), (kind == text_kind, func.parcours_number(raw)))
        is_true = raw == "true" if self.postgres else kind == "true"
        boolean = case((kind.in_(bool_kinds), is_true))
        return Operand(
            missing=or_(kind.is_(None), kind == "null", and_(kind == text_kind, raw == "")),
            text=text,
            number=number,
            epoch=func.parcours_epoch_us(text),
            boolean=boolean,
            is_number=_bool(is_number),
        )


def matching_contact_ids(
    session: Session, condition: Condition, now: datetime, contact_ids: Iterable[int] | None = None
) -> set[int]:
    """The ids (among ``contact_ids``, or all contacts) for which the condition holds."""
    compiler = ConditionSql(session.get_bind().dialect.name, now)
    query = select(CONTACTS.c.id).where(compiler.contact_filter(condition))
    if contact_ids is not None:
        query = query.where(CONTACTS.c.id.in_(list(contact_ids)))
    return set(session.execute(query).scalars())


def count_matching(session: Session, condition: Condition, now: datetime) -> int:
    compiler = ConditionSql(session.get_bind().dialect.name, now)
    query = select(func.count()).select_from(CONTACTS).where(compiler.contact_filter(condition))
    return int(session.execute(query).scalar_one())
