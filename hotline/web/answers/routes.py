"""The common-answers API and page: search (every role; the current call's IVR path first),
new versions by admins (audited)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from casestore.service_process.answers_store import AnswerRepository, AnswerView
from hotline.roles import ALL_ROLES, STAFF, Role
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import STORE_KEY, WEB_KEY
from hotline.web.base.pages import NavItem
from hotline.web.base.room import WebRoom

routes = ApiRegistry()
KEY = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def answers_of(app: web.Application) -> AnswerRepository:
    store = app[STORE_KEY]
    return AnswerRepository(store.engine, store.clock)


class AnswerOut(BaseModel):
    key: str
    version: int
    kind: str
    queue: str
    category: str
    language: str
    ivr_nodes: list[str]
    title: str
    body: str
    author: str
    created_at: float
    suggested: bool

    @classmethod
    def of(cls, a: AnswerView) -> AnswerOut:
        return cls(key=a.key, version=a.version, kind=a.kind, queue=a.queue, category=a.category,
                   language=a.language, ivr_nodes=list(a.ivr_nodes), title=a.title, body=a.body, author=a.author,
                   created_at=a.created_at, suggested=a.suggested)


class AnswersOut(BaseModel):
    answers: list[AnswerOut]


class AnswerQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    queue: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=32)
    call_id: str | None = Field(default=None, max_length=64, description="suggest from this call's IVR path")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=8000)
    language: str = Field(pattern=r"^[a-z]{2}$")
    queue: str = Field(default="*", max_length=64)
    category: str = Field(default="*", max_length=32)
    kind: str = Field(default="answer", pattern=r"^(answer|phrasing)$")
    ivr_nodes: list[str] = Field(default_factory=list, max_length=32)


async def search(app: web.Application, query: AnswerQuery) -> list[AnswerView]:
    nodes: list[str] = []
    if query.call_id:
        nodes = [step.node for step in await app[STORE_KEY].cases.ivr_path(query.call_id)]
    return await answers_of(app).search(query.q, language=query.language, queue=query.queue,
                                        category=query.category, suggest_nodes=nodes)


@routes.get("/api/answers", roles=ALL_ROLES, query=AnswerQuery, response=AnswersOut, tag="answers",
            summary="Search the common answers (full text; the call's IVR path first)")
async def search_answers(call: ApiCall[None, AnswerQuery]) -> AnswersOut:
    return AnswersOut(answers=[AnswerOut.of(a) for a in await search(call.request.app, call.query)])


@routes.post("/api/answers", roles=frozenset({Role.ADMIN}), body=AnswerIn, response=AnswerOut, tag="answers",
             summary="Save a new version of a common answer", invalid_code="bad_answer")
async def save_answer(call: ApiCall[AnswerIn, None]) -> AnswerOut:
    b = call.body
    saved = await answers_of(call.request.app).save(
        actor_of(call.principal), b.key, title=b.title, body=b.body, language=b.language, queue=b.queue,
        category=b.category, kind=b.kind, ivr_nodes=b.ivr_nodes,
    )
    return AnswerOut.of(saved)


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("answers.nav", "/answers", STAFF, order=35))  # agents: linked from their desktop
    room.pages.route("GET", "/answers", answers_page, roles=ALL_ROLES)


async def answers_page(request: web.Request) -> web.StreamResponse:
    raw = {k: v for k, v in request.query.items() if k in AnswerQuery.model_fields and v}
    try:
        query = AnswerQuery.model_validate(raw)
    except ValueError:
        query = AnswerQuery()
    found = await search(request.app, query)
    return request.app[WEB_KEY].pages.render(request, "answers/answers.html", query=query, answers=found)
