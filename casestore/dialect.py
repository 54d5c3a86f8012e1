"""Engine creation and the few statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from casestore.errors import StoreUnavailable

SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


def _sqlite_file(database: str, create: bool) -> None:
    """A typo in a SQLite URL must not leave files and folders behind: the database file must
    exist unless `create` (`hotline db upgrade`), and only then may its own folder be made
    (one level: a missing folder above it is refused)."""
    path = Path(database)
    if path.exists():
        return
    if not create:
        raise StoreUnavailable(
            f"no database at {path}: create it with `hotline db upgrade` (or check store.url / store.data_dir)"
        )
    folder = path.parent
    if folder.is_dir():
        return
    if not folder.parent.is_dir():
        raise StoreUnavailable(f"cannot create {path}: folder {folder.parent} does not exist (check store.url)")
    try:
        folder.mkdir()
    except OSError as exc:
        raise StoreUnavailable(f"cannot create folder {folder}: {exc.strerror or exc}") from exc


def create_engine(url: str, *, create: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine for a SQLite (aiosqlite) or PostgreSQL (asyncpg) URL. A SQLite file
    must exist unless `create` (see `_sqlite_file`)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailable(f"not a database URL: {url!r}") from exc
    if parsed.drivername not in SUPPORTED:
        raise StoreUnavailable(f"unsupported database URL scheme {parsed.drivername!r}; use one of {SUPPORTED}")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _sqlite_file(parsed.database, create)
        engine = create_async_engine(parsed, **kwargs)
        _sqlite_events(engine)
        return engine
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"timeout": 10, "command_timeout": 60})
    engine = create_async_engine(parsed, **kwargs)
    # An INSERT given many rows is sent as multi-row VALUES statements (pages of up to 1,000
    # rows) rather than one statement per row through the driver: the same statement and
    # rows, far fewer round trips (insert-only tables and upserts alike).
    engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def _sqlite_events(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for write units of work
    (engines derived with `execution_options(sqlite_begin="IMMEDIATE")`), so two writers
    queue on the lock instead of failing on a read-to-write upgrade."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def writing(engine: AsyncEngine) -> AsyncEngine:
    """The engine to open write transactions on (takes SQLite's write lock at BEGIN)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def insert(engine_or_name: AsyncEngine | str, table: Table) -> Any:
    """`INSERT` supporting `on_conflict_do_update/nothing` for the engine's dialect."""
    name = engine_or_name if isinstance(engine_or_name, str) else engine_or_name.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
