"""Schemas of the queues-and-agents admin API. An item's own fields are those of the
configuration file (`queues:` / `agents:` entries, docs/configuration.md), checked by the same
schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from casestore.acd_config import ConfigVersion


class AcdItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    item: dict[str, Any] = Field(description="the queue or agent as in the configuration file")
    message: str = Field("", max_length=1000, description="why (kept with the version)")


class AcdDisableIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    disabled: bool
    message: str = Field("", max_length=1000)


class AcdRollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(ge=1)


class AcdDiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: int = Field(ge=1, description="older version")
    b: int = Field(ge=1, description="newer version")


class AcdVersionOut(BaseModel):
    kind: str
    name: str
    version: int
    author: str
    message: str
    created_at: float
    item: dict[str, Any]

    @classmethod
    def of(cls, v: ConfigVersion) -> AcdVersionOut:
        return cls(kind=v.kind, name=v.name, version=v.version, author=v.author, message=v.message,
                   created_at=v.created_at, item=v.data)


class AcdItemsOut(BaseModel):
    """The newest version of every queue (or agent): the one the ACD runs."""

    items: list[AcdVersionOut]


class AcdVersionsOut(BaseModel):
    versions: list[AcdVersionOut]


class AcdDiffOut(BaseModel):
    diff: str = Field(description="unified diff of the two versions as YAML")


class AcdProblemOut(BaseModel):
    key: str = Field(description="key path inside the item, e.g. `skills.booking` ('' for the item)")
    message: str


class AcdInvalidOut(BaseModel):
    """The item was refused; nothing changed."""

    error: str = "invalid_item"
    message: str
    problems: list[AcdProblemOut]
