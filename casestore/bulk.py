"""PostgreSQL bulk writes: a batch's rows COPYed into a staging table, then upserted from it.

One statement per table for a whole batch, as before, but the rows travel in COPY's binary
format, encoded column by column by the driver: passing them as one array per column
(`unnest($1::text[], ...)`) made asyncpg test every element for being a nested array, two
abstract-class checks per string, which cost more than the database's own work. The
staging table is a temporary copy of the written columns (their types, so an over-long value
is refused as by the table itself), created once per connection (`IF NOT EXISTS`, in every
batch: a rolled-back transaction takes a table it created with it) and emptied by the
statement that reads it, so it can be used again in the same transaction. The upsert keeps
the semantics of the SQLAlchemy statement it replaces and takes the rows in key order (the
same lock order for every writer).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncConnection

# SQLSTATE classes of a lost or refused connection: retry later, the content is not at fault.
_TRANSIENT_CLASSES = ("08", "53", "57", "40")


@dataclass(frozen=True, slots=True)
class StagedUpsert:
    """The statements of one bulk upsert (see `staged_upsert`)."""

    stage: str  # the temporary table
    columns: list[str]  # the order of each record's values
    create: str  # creates the staging table if this connection has none
    upsert: str  # moves the staged rows into the table


def staged_upsert(
    table: Table,
    key: str | tuple[str, ...],
    assignments: dict[str, str] | None,
    returning: str = "",
    columns: list[str] | None = None,
    skip: tuple[str, ...] = (),
) -> StagedUpsert:
    """`INSERT INTO table SELECT ... FROM <the staged rows> ORDER BY key ON CONFLICT (key)
    DO UPDATE SET ...` (`DO NOTHING` when `assignments` is None; each assignment is SQL over
    `t` (the table) and `excluded`), with `RETURNING returning` if given. `key`: the
    column(s) of a unique constraint; `columns`: those written (default every column but an
    `id` that is not the key), less those in `skip` (they keep their defaults)."""
    keys = (key,) if isinstance(key, str) else key
    if columns is None:
        columns = [c.name for c in table.c if c.name != "id" or "id" in keys]
    columns = [name for name in columns if name not in skip]
    names = ", ".join(f'"{name}"' for name in columns)
    order = ", ".join(f'"{name}"' for name in keys)
    # Named after its columns too: a connection that outlived a schema change gets a new one.
    stage = f"hotline_stage_{table.name}_{zlib.crc32(names.encode()):08x}"
    create = (
        f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS AS '
        f'SELECT {names} FROM "{table.name}" WITH NO DATA'
    )
    sql = (
        f'WITH staged AS (DELETE FROM "{stage}" RETURNING {names}) '
        f'INSERT INTO "{table.name}" AS t ({names}) SELECT {names} FROM staged ORDER BY {order} '
        f"ON CONFLICT ({order}) "
    )
    if assignments is None:
        sql += "DO NOTHING"
    else:
        sql += "DO UPDATE SET " + ", ".join(f'"{name}" = {expr}' for name, expr in assignments.items())
    if returning:
        sql += f" RETURNING {returning}"
    return StagedUpsert(stage, columns, create, sql)


async def upsert_rows(conn: AsyncConnection, staged: StagedUpsert, rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """`upsert_records` for rows given as mappings (a missing column is NULL)."""
    columns = staged.columns
    return await upsert_records(conn, staged, [tuple([row.get(name) for name in columns]) for row in rows])


async def upsert_records(
    conn: AsyncConnection, staged: StagedUpsert, records: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Copy `records` (values in `staged.columns` order) into the staging table and upsert
    them, on the connection's driver connection, in its transaction; return what the upsert
    returns. Driver errors come back as SQLAlchemy's, so callers tell a lost database
    (OperationalError/InterfaceError) from refused content (DBAPIError) as before."""
    driver = await _in_transaction(conn)
    try:
        await driver.execute(staged.create)
        await driver.copy_records_to_table(staged.stage, records=records, columns=staged.columns)
        return [tuple(record) for record in await driver.fetch(staged.upsert)]
    except asyncpg.PostgresError as exc:
        raise _converted(staged.upsert, exc) from exc
    except (asyncpg.InterfaceError, OSError) as exc:
        raise InterfaceError(staged.upsert, None, exc) from exc


async def fetch_arrays(conn: AsyncConnection, sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
    """Run `sql` with `arrays` as its parameters ($1, $2, ... of array types) on the
    connection's driver connection, in its transaction (errors as in `upsert_records`)."""
    driver = await _in_transaction(conn)
    try:
        return [tuple(record) for record in await driver.fetch(sql, *arrays)]
    except asyncpg.PostgresError as exc:
        raise _converted(sql, exc) from exc
    except (asyncpg.InterfaceError, OSError) as exc:
        raise InterfaceError(sql, None, exc) from exc


async def _in_transaction(conn: AsyncConnection) -> Any:
    """The asyncpg connection under `conn`, inside `conn`'s transaction."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    adapted = raw.dbapi_connection
    if getattr(adapted, "_transaction", False) is None:
        # SQLAlchemy sends BEGIN with its first statement: without this, a batch whose first
        # statement comes here would run it outside the transaction (committed on its own).
        await adapted._start_transaction()  # type: ignore[union-attr]
    return driver


def _converted(sql: str, exc: Exception) -> DBAPIError:
    state = getattr(exc, "sqlstate", "") or ""
    if state[:2] in _TRANSIENT_CLASSES:
        return InterfaceError(sql, None, exc)
    return DBAPIError(sql, None, exc)
