"""PostgreSQL bulk writes: many rows in one statement of column arrays (`unnest`).

One prepared statement per table, its parameters one array per column in asyncpg's binary
format: one round trip for a whole batch, instead of one statement (or one page of VALUES)
per thousand rows. The statement keeps the semantics of the SQLAlchemy upsert it replaces;
arrays are cast to the plain element type (text, not varchar(n)) so an over-long value is
still refused by the column instead of being cut by the cast.
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncConnection

_ARRAY_TYPES = {"VARCHAR": "text", "TEXT": "text", "INTEGER": "int4", "BIGINT": "int8", "DOUBLE PRECISION": "float8"}
# SQLSTATE classes of a lost or refused connection: retry later, the content is not at fault.
_TRANSIENT_CLASSES = ("08", "53", "57", "40")


def _array_type(table: Table, column: str) -> str:
    compiled = table.c[column].type.compile(dialect=postgresql.dialect()).split("(")[0].upper()
    return _ARRAY_TYPES[compiled]


def upsert_sql(
    table: Table,
    key: str | tuple[str, ...],
    assignments: dict[str, str] | None,
    returning: str = "",
    columns: list[str] | None = None,
    skip: tuple[str, ...] = (),
) -> tuple[str, list[str]]:
    """`INSERT ... SELECT * FROM unnest($1::t[], ...) ON CONFLICT (key) DO UPDATE SET ...`
    (`DO NOTHING` when `assignments` is None; each assignment is SQL over `t` (the table)
    and `excluded`), with `RETURNING returning` if given. `key`: the column(s) of a unique
    constraint; `columns`: those written (default every column but an `id` that is not the
    key), less those in `skip` (they keep their defaults). Returns the SQL and the column
    order of the arrays."""
    keys = (key,) if isinstance(key, str) else key
    if columns is None:
        columns = [c.name for c in table.c if c.name != "id" or "id" in keys]
    columns = [name for name in columns if name not in skip]
    arrays = ", ".join(f"${i}::{_array_type(table, name)}[]" for i, name in enumerate(columns, 1))
    names = ", ".join(f'"{name}"' for name in columns)
    conflict = ", ".join(f'"{name}"' for name in keys)
    sql = f'INSERT INTO "{table.name}" AS t ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT ({conflict}) '
    if assignments is None:
        sql += "DO NOTHING"
    else:
        sql += "DO UPDATE SET " + ", ".join(f'"{name}" = {expr}' for name, expr in assignments.items())
    if returning:
        sql += f" RETURNING {returning}"
    return sql, columns


async def execute_arrays(
    conn: AsyncConnection, sql: str, columns: list[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Run `sql` (from `upsert_sql`) for `rows` on the connection's driver connection, in its
    transaction, and return what it returns. Driver errors come back as SQLAlchemy's, so callers tell a lost database
    (OperationalError/InterfaceError) from refused content (DBAPIError) as before."""
    return await fetch_arrays(conn, sql, [[row.get(name) for row in rows] for name in columns])


async def fetch_arrays(conn: AsyncConnection, sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
    """Run `sql` with `arrays` as its parameters ($1, $2, ... of array types) on the
    connection's driver connection, in its transaction (errors as in `execute_arrays`)."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    adapted = raw.dbapi_connection
    if getattr(adapted, "_transaction", False) is None:
        # SQLAlchemy sends BEGIN with its first statement: without this, a batch whose first
        # statement comes here would run it outside the transaction (committed on its own).
        await adapted._start_transaction()  # type: ignore[union-attr]
    try:
        return [tuple(record) for record in await driver.fetch(sql, *arrays)]
    except asyncpg.PostgresError as exc:
        state = getattr(exc, "sqlstate", "") or ""
        if state[:2] in _TRANSIENT_CLASSES:
            raise InterfaceError(sql, None, exc) from exc
        raise DBAPIError(sql, None, exc) from exc
    except (asyncpg.InterfaceError, OSError) as exc:
        raise InterfaceError(sql, None, exc) from exc
