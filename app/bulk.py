"""Bulk writes straight through the database driver, for the engine's hot paths.

SQLAlchemy's per-parameter processing costs more than the database itself when a chunk writes
thousands of rows; these helpers adapt values column by column (UTC datetimes, JSON) and hand
them to the driver: binary COPY or arrays on PostgreSQL, ``executemany`` on SQLite. Used only
where the rows' shapes are known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import JSON, Table, any_, bindparam, cast
from sqlalchemy import types as sa_types
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.db import UTCDateTime

Adapter = Callable[[Any], Any]


def _utc_naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _sqlite_time(value: datetime | None) -> str | None:
    # The exact text SQLAlchemy stores, so comparisons between both kinds of rows hold.
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _adapters(table: Table, columns: Sequence[str], dialect: str) -> list[Adapter | None]:
    """One adapter per column (None: the value as it is), fresh for one statement."""
    adapters: list[Adapter | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            adapters.append(_per_value(_sqlite_time if dialect == "sqlite" else _utc_naive))
        elif isinstance(column_type, JSON) or isinstance(getattr(column_type, "impl", None), JSON):
            adapters.append(_shared_json())
        else:
            adapters.append(None)
    return adapters


def _columns(
    keys: Sequence[str], rows: Sequence[dict[str, Any]], adapters: Sequence[Adapter | None]
) -> list[list[Any]]:
    """Each key's values over the rows, through its column's adapter."""
    return [
        [row[key] for row in rows] if adapt is None else [adapt(row[key]) for row in rows]
        for key, adapt in zip(keys, adapters, strict=True)
    ]


def _placeholder(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _tuples(
    session: Session,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Row values in ``keys`` order, adapted to the type of the matching ``columns``."""
    adapters = _adapters(table, columns or keys, session.get_bind().dialect.name)
    return list(zip(*_columns(keys, rows, adapters), strict=True))


def _per_value(adapter: Adapter) -> Adapter:
    # A chunk stamps most rows with the same instant: format it once.
    seen: dict[Any, Any] = {}

    def adapt(value: Any) -> Any:
        if value not in seen:
            seen[value] = adapter(value)
        return seen[value]

    return adapt


def _shared_json(prefix: bytes | None = None) -> Adapter:
    """JSON text (or, with a ``prefix``, the bytes PostgreSQL's binary COPY takes). Rows often
    share one object (an explanation for every contact that looked alike): it is encoded once;
    the object is kept alongside so that its id cannot be reused meanwhile."""
    seen: dict[int, tuple[Any, str | bytes]] = {}

    def adapt(value: Any) -> str | bytes | None:
        if value is None:
            return None
        known = seen.get(id(value))
        if known is None:
            encoded = to_json(value)  # compact, and several times faster than json.dumps
            known = seen[id(value)] = (
                value,
                encoded.decode() if prefix is None else prefix + encoded,
            )
        return known[1]

    return adapt


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """``column IN values``; on PostgreSQL one array parameter (``= ANY``), since thousands of
    placeholders cost more to send than the query takes to run."""
    values = list(values)
    if not is_postgres(session):
        return column.in_(values)
    return column == any_(
        cast(bindparam(None, values, type_=ARRAY(column.type)), ARRAY(column.type))
    )


def rows_where_in(
    session: Session, table: Table, column: str, values: Sequence[Any], selected: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The ``selected`` columns of the rows whose ``column`` is one of ``values``, in one
    parameter whatever their number: a binary array on PostgreSQL, a JSON array read by
    ``json_each`` on SQLite (thousands of placeholders cost more to send, and for SQLAlchemy
    and the driver to process, than the lookup takes to run)."""
    if not values:
        return []
    if is_postgres(session):
        # IN (SELECT unnest(…)), not = ANY(…): the prepared statement's generic plan scans the
        # table comparing each row with every value, where this form probes the index.
        sql = (
            f"SELECT {', '.join(selected)} FROM {table.name} WHERE {column} IN (SELECT unnest(%b))"
        )
        parameter: Any = list(values)
    else:
        sql = (
            f"SELECT {', '.join(selected)} FROM {table.name} "
            f"WHERE {column} IN (SELECT value FROM json_each(?))"
        )
        parameter = to_json(list(values)).decode()
    return [tuple(row) for row in session.connection().exec_driver_sql(sql, (parameter,))]


def new_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for rows about to be inserted in this transaction, so rows
    that refer to them can be built first. On SQLite the writer holds the database, so the
    next ones after the largest are free; on PostgreSQL they come from the id sequence."""
    if count <= 0:
        return []
    if is_postgres(session):
        ids = (
            session.connection()
            .exec_driver_sql(
                f"SELECT array_agg(nextval(pg_get_serial_sequence('{table.name}', 'id'))) "
                "FROM generate_series(1, %s)",
                (count,),
            )
            .scalar_one()
        )
        return sorted(ids)
    largest = session.connection().exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar()
    start = (largest or 0) + 1
    return list(range(start, start + count))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT the rows (all with the same keys): COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    columns = list(rows[0])
    if is_postgres(session):
        _copy_binary(session, table, columns, rows)
        return
    mark = _placeholder(session)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(mark for _ in columns)})"
    )
    session.connection().exec_driver_sql(sql, _tuples(session, table, columns, rows))


def insert_missing_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT the rows whose ``unique`` columns match no existing row; returns the
    ``returning`` columns of those inserted (nothing when none are asked for). One statement:
    unnest arrays on PostgreSQL; on SQLite the driver's ``executemany`` when nothing is
    returned (SQLite's own RETURNING needs SQLAlchemy's insert to page the rows)."""
    if not rows:
        return []
    columns = list(rows[0])
    conflict = f"ON CONFLICT ({', '.join(unique)}) DO NOTHING"
    if not is_postgres(session):
        if not returning:
            mark = _placeholder(session)
            sql = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join(mark for _ in columns)}) {conflict}"
            )
            session.connection().exec_driver_sql(sql, _tuples(session, table, columns, rows))
            return []
        insert_ = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(unique))
        statement = insert_.returning(*(table.c[name] for name in returning))
        return [tuple(row) for row in session.execute(statement, list(rows))]
    dialect = session.get_bind().dialect
    arrays = _columns(columns, rows, _adapters(table, columns, dialect.name))
    types = [table.c[name].type.compile(dialect=dialect) for name in columns]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({', '.join(f'%b::{t}[]' for t in types)}) {conflict}"
    )
    if not returning:
        session.connection().exec_driver_sql(sql, tuple(arrays))
        return []
    sql += f" RETURNING {', '.join(returning)}"
    return [tuple(row) for row in session.connection().exec_driver_sql(sql, tuple(arrays))]


def _copy_binary(
    session: Session, table: Table, columns: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    """COPY in PostgreSQL's binary format: no text to escape here nor to parse there."""
    dialect = session.get_bind().dialect
    types: list[str] = []
    adapters: list[Adapter | None] = []
    for name in columns:
        column_type = table.c[name].type
        impl = column_type.dialect_impl(dialect)
        if isinstance(column_type, UTCDateTime):
            types.append("timestamp")
            adapters.append(_per_value(_utc_naive))
        elif isinstance(impl, JSONB):
            types.append("bytea")  # jsonb's binary form: a version byte, then the JSON text
            adapters.append(_shared_json(b"\x01"))
        elif isinstance(impl, JSON):
            types.append("bytea")  # json's binary form is its text
            adapters.append(_shared_json(b""))
        else:
            types.append(_binary_type(impl))
            adapters.append(None)
    values = _columns(columns, rows, adapters)
    driver = session.connection().connection.dbapi_connection
    assert driver is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
        copy.set_types(types)
        for row in zip(*values, strict=True):
            copy.write_row(row)


def _binary_type(impl: Any) -> str:
    """The name psycopg dumps a column's values by (subclasses before their parents)."""
    if isinstance(impl, sa_types.TypeDecorator):
        impl = impl.impl_instance
    for sql_type, name in (
        (sa_types.BigInteger, "int8"),
        (sa_types.SmallInteger, "int2"),
        (sa_types.Integer, "int4"),
        (sa_types.String, "text"),
        (sa_types.Boolean, "bool"),
        (sa_types.Float, "float8"),
        (sa_types.DateTime, "timestamp"),
        (sa_types.Date, "date"),
    ):
        if isinstance(impl, sql_type):
            return name
    raise TypeError(f"no binary COPY for a column of type {impl!r}")


def update_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    where: dict[str, str],
) -> int:
    """UPDATE one row per entry: the ``where`` keys (row key -> column) pick the row, every
    other key is a column to set. Returns the number of rows changed."""
    if not rows:
        return 0
    if is_postgres(session):
        return _update_from_arrays(session, table, rows, where)
    mark = _placeholder(session)
    setting = [name for name in rows[0] if name not in where]
    assignments = ", ".join(f"{name} = {mark}" for name in setting)
    condition = " AND ".join(f"{column} = {mark}" for column in where.values())
    sql = f"UPDATE {table.name} SET {assignments} WHERE {condition}"
    keys = [*setting, *where]
    columns = [*setting, *where.values()]
    result = session.connection().exec_driver_sql(
        sql,
        _tuples(session, table, keys, rows, columns),
    )
    return int(result.rowcount)


def _update_from_arrays(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], where: dict[str, str]
) -> int:
    """One UPDATE ... FROM unnest(arrays): a parameter per column, not per value."""
    keys = list(rows[0])
    columns = [where.get(key, key) for key in keys]
    dialect = session.get_bind().dialect
    arrays = _columns(keys, rows, _adapters(table, columns, dialect.name))
    types = [table.c[column].type.compile(dialect=dialect) for column in columns]
    unnest = ", ".join(f"%s::{sql_type}[]" for sql_type in types)
    aliases = ", ".join(f"v_{key}" for key in keys)
    assignments = ", ".join(f"{key} = v.v_{key}" for key in keys if key not in where)
    condition = " AND ".join(f"t.{column} = v.v_{key}" for key, column in where.items())
    sql = (
        f"UPDATE {table.name} AS t SET {assignments} "
        f"FROM unnest({unnest}) AS v({aliases}) WHERE {condition}"
    )
    result = session.connection().exec_driver_sql(sql, tuple(arrays))
    return int(result.rowcount)
