# ruff: noqa: E501  (SQL regular expressions read best on one line)
"""SQL functions of the condition language's value rules, for PostgreSQL.

SQLite registers the same functions from Python on each connection (app/db.py), so both
databases evaluate conditions exactly like the in-memory evaluator (app/graph/coercion.py).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


EPOCH_US = r"""
CREATE OR REPLACE FUNCTION parcours_epoch_us(t text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
    parts text[];
    local_time timestamp;
    offset_minutes integer := 0;
BEGIN
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    IF t ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        local_time := t::date::timestamp;
    ELSE
        parts := regexp_match(
            t,
            '^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?)(Z|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))?$'
        );
        IF parts IS NULL THEN
            RETURN NULL;
        END IF;
        local_time := replace(parts[1], 'T', ' ')::timestamp;
        IF parts[3] IS NOT NULL THEN
            offset_minutes := (parts[4]::integer * 60 + parts[5]::integer)
                * CASE WHEN parts[3] = '-' THEN -1 ELSE 1 END;
        END IF;
    END IF;
    RETURN (extract(epoch FROM local_time) * 1000000)::bigint
        - offset_minutes::bigint * 60000000;
EXCEPTION WHEN others THEN
    RETURN NULL;  -- shaped like a date but impossible, e.g. 2024-02-30
END
$fn$;
"""

NUMBER = r"""
CREATE OR REPLACE FUNCTION parcours_number(t text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
    n double precision;
BEGIN
    IF t IS NULL OR t !~ '^-?[0-9]+(\.[0-9]+)?$' THEN
        RETURN NULL;
    END IF;
    n := t::double precision;
    IF n = 'Infinity'::double precision OR n = '-Infinity'::double precision THEN
        RETURN NULL;
    END IF;
    RETURN n;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$fn$;
"""

FOLD = """
CREATE OR REPLACE FUNCTION parcours_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ SELECT lower(t {collate}) $fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(EPOCH_US)
    op.execute(NUMBER)
    # Unicode-aware lower() whatever the database's locale, when ICU is there.
    has_icu = (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM pg_collation WHERE collname = 'und-x-icu'")
        .scalar()
    )
    op.execute(FOLD.format(collate='COLLATE "und-x-icu"' if has_icu else ""))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS parcours_fold(text)")
    op.execute("DROP FUNCTION IF EXISTS parcours_number(text)")
    op.execute("DROP FUNCTION IF EXISTS parcours_epoch_us(text)")
