"""Alembic environment for the case store. Driven by `casestore.schema.upgrade`, which hands
over an open connection in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context

from casestore.models import Base
from casestore.service_process import models as _service_models  # noqa: F401 (its tables)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through casestore.schema.upgrade (hotline db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
