"""Read every table of the case store from one consistent snapshot.

PostgreSQL: one `REPEATABLE READ READ ONLY` transaction (every table as of the same moment,
writers are not blocked). SQLite: one read transaction on the WAL (the same guarantee: a
reader keeps its snapshot while the writer appends to the WAL). Rows come out in primary key
order as JSON arrays, one line each; a table's checksum is the SHA-256 of those lines, so a
restored database can be compared with the backup without the backup's files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.models import Base

BATCH = 2000


def tables() -> list[Table]:
    """The store's tables, parents before children (the order a restore inserts them)."""
    return list(Base.metadata.sorted_tables)


def encode_row(values: Sequence[Any]) -> bytes:
    """One row as a canonical JSON line (column order of the table)."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass
class TableSummary:
    rows: int = 0
    sha256: str = ""


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see the same committed state of the database."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                await conn.execute(text("SET TRANSACTION READ ONLY"))
                yield conn
        return
    async with engine.connect() as conn, conn.begin():
        # the first read fixes SQLite's snapshot for the rest of the transaction
        await conn.execute(text("SELECT count(*) FROM sqlite_master"))
        yield conn


async def table_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str] | None = None
) -> AsyncIterator[list[bytes]]:
    """A table's rows (`columns`, default all) as encoded lines, in primary key order."""
    order = list(table.primary_key.columns) or list(table.c)
    chosen = [table.c[name] for name in columns] if columns is not None else list(table.c)
    result = await conn.stream(select(*chosen).order_by(*order))
    async for partition in result.partitions(BATCH):
        yield [encode_row(tuple(row)) for row in partition]


async def summarise(
    conn: AsyncConnection, table: Table, columns: Sequence[str] | None = None
) -> TableSummary:
    """Row count and checksum of a table (`columns`, default all) as this connection sees it."""
    digest = hashlib.sha256()
    summary = TableSummary()
    async for lines in table_rows(conn, table, columns):
        for line in lines:
            digest.update(line)
        summary.rows += len(lines)
    summary.sha256 = digest.hexdigest()
    return summary
