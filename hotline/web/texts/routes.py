"""The message templates and the answers' history over the API (admins): every template as it
is sent now (the admin's newest version, else the built-in default), every version of an
answer. Saving stays `POST /api/message-templates` and `POST /api/answers` (audited)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from hotline.roles import Role
from hotline.service_process.templates import DEFAULTS, current_text
from hotline.web.answers.routes import AnswerOut, AnswersOut, answers_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.workorders.routes import process_of

ADMIN = frozenset({Role.ADMIN})
routes = ApiRegistry()


class TemplateNow(BaseModel):
    event: str
    channel: str
    language: str
    version: int = Field(description="the admin's newest version; 0: the built-in default")
    body: str


class TemplatesOut(BaseModel):
    templates: list[TemplateNow]


async def templates_now(app: web.Application) -> list[TemplateNow]:
    outreach = process_of(app).outreach
    out = []
    for event, channel, language in sorted(DEFAULTS):
        version, body = await current_text(outreach, event, channel, language)
        out.append(TemplateNow(event=event, channel=channel, language=language, version=version, body=body))
    return out


@routes.get("/api/message-templates", roles=ADMIN, response=TemplatesOut, tag="workorders",
            summary="Every customer message template as it is sent now")
async def list_templates(call: ApiCall[None, None]) -> TemplatesOut:
    return TemplatesOut(templates=await templates_now(call.request.app))


@routes.get("/api/answers/{key}/versions", roles=ADMIN, response=AnswersOut, tag="answers",
            summary="Every version of a common answer, newest first", errors=(404,))
async def answer_versions(call: ApiCall[None, None]) -> AnswersOut:
    found = await answers_of(call.request.app).versions(call.params["key"])
    if not found:
        raise ApiError(404, "not_found", f"no answer {call.params['key']!r}")
    return AnswersOut(answers=[AnswerOut.of(a) for a in found])
