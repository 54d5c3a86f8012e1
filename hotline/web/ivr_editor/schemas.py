"""The IVR editor's API schemas (they validate the requests and document the API)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.web.menus.routes import Issue
from hotline.web.menus.service import MAX_MENU_BYTES


class GraphNodeOut(BaseModel):
    id: str
    kind: str = Field(description="a node kind, `queue` (a transfer's or callback's queue) or `missing` (unknown target)")
    detail: str
    error: bool = Field(description="the checker found an error in this node")
    line: int | None = Field(None, description="the node's line in the draft")


class GraphEdgeOut(BaseModel):
    source: str
    target: str
    label: str = Field(description="the DTMF key and first keyword of an option, open/closed, failure, ...")
    kind: str


class DraftOut(BaseModel):
    """A draft checked (the checker of `hotline ivr check`, against the ACD's queues) and
    drawn; `ok` false lists the errors by line and node. Nothing is stored."""

    ok: bool
    menu: str | None
    issues: list[Issue]
    error_nodes: list[str]
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]
    svg: str = Field(description="the graph as an SVG element (empty when the YAML has no nodes mapping)")


class StoredVersionOut(BaseModel):
    version: int
    sha256: str
    source: str
    author: str
    message: str
    created_at: float
    active: bool


class VersionsOut(BaseModel):
    """Every stored version of a menu (oldest first) and the active one."""

    name: str
    active_version: int | None
    versions: list[StoredVersionOut]


class VersionTextOut(StoredVersionOut):
    name: str
    text: str


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: int = Field(alias="from", ge=1)
    new: int = Field(alias="to", ge=1)


class DiffRowOut(BaseModel):
    kind: Literal["same", "changed", "removed", "added", "gap"]
    old_line: int | None
    old: str
    new_line: int | None
    new: str


class DiffOut(BaseModel):
    """Two versions' difference: unified text and side-by-side rows of the changed hunks."""

    name: str
    from_version: int
    to_version: int
    unified: str
    rows: list[DiffRowOut]


class CallerAction(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["dtmf", "say", "silence", "hangup"]
    value: str = Field("", max_length=200, description="keys (0-9 * #) or the phrase said")
    confidence: float = Field(1.0, ge=0.0, le=1.0)


class TryIn(BaseModel):
    """A test call on a draft: the caller's actions in order, one per question."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(max_length=MAX_MENU_BYTES, description="the draft menu (YAML)")
    actions: list[CallerAction] = Field(default_factory=list, max_length=64)
    at: str | None = Field(None, max_length=40, description="time of the call, ISO 8601 (default: now)")
    timezone: str | None = Field(None, max_length=64, description="zone of an `at` without offset (default UTC)")
    language: str | None = Field(None, max_length=16)
    start: str | None = Field(None, max_length=128, description="start node (default: the menu's start)")
    caller: str | None = Field("+821012345678", max_length=32, description="null: withheld")
    tier: str | None = Field(None, max_length=32, description="the directory knows the caller with this tier")
    customer_language: str | None = Field(None, max_length=16)
    emergency: str | None = Field(None, max_length=500, description="emergency on (with this text, or '')")
    pause: bool = Field(True, description="stop at the first question after the last action (else silence)")


class WaitingOut(BaseModel):
    node: str
    kind: str
    prompts: list[dict[str, Any]]
    dtmf: bool
    speech: list[str] | str | None


class TransferOut(BaseModel):
    queue: str
    skills: dict[str, int]
    priority: int
    tier: str | None
    language: str | None
    callback_number: str | None
    data: dict[str, str]


class TryOut(BaseModel):
    """The walk of the test call: nodes visited with prompts said and inputs; the outcome and
    queue reached, or the question it waits at (`waiting`)."""

    menu: str
    version: int
    outcome: str | None
    reason: str
    node: str
    language: str
    path: list[str]
    steps: int
    transfer: TransferOut | None
    data: dict[str, str]
    walk: list[dict[str, Any]]
    waiting: WaitingOut | None
