"""Schema revisions: `upgrade` (Alembic, programmatic) and `check_schema` for server start."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.errors import SchemaError, StoreUnavailable


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "casestore:migrations")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


async def current_revision(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(f"cannot read the schema revision: {exc}") from exc


async def upgrade(engine: AsyncEngine, target: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema; returns (revision before, revision after)."""
    before = await current_revision(engine)
    if before is not None and before not in _known_revisions():
        raise SchemaError(
            f"the database is at schema revision {before!r}, which this Hotline version does not "
            "know (written by a newer version?); refusing to touch it",
            current=before,
        )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, target)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(f"schema upgrade failed: {exc}") from exc
    return before, head_revision() if target == "head" else target


async def check_schema(engine: AsyncEngine) -> str:
    """Raise SchemaError unless the database is exactly at this version's head revision."""
    current = await current_revision(engine)
    head = head_revision()
    url = engine.url.render_as_string(hide_password=True)
    if current == head:
        return current
    if current is None:
        message = f"{url} has no Hotline schema; create it with `hotline db upgrade --url {url}`"
    elif current in _known_revisions():
        message = (
            f"{url} is at schema revision {current}, older than this version's {head}; "
            f"run `hotline db upgrade --url {url}`"
        )
    else:
        message = (
            f"{url} is at unknown schema revision {current!r} (this version knows up to {head}); "
            "the server refuses to start on a schema it does not know"
        )
    raise SchemaError(message, current=current, expected=head)
