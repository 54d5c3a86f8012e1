"""The admins' texts page: the customer message templates (SMS and e-mail, per event and
language) with a preview made as the customer's message is made, and the common-answers
library (per queue, category and language; every save a new version). Saving goes through the
same stores as the API (`save_template`, `AnswerRepository.save`), audited there."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from hotline.roles import Role
from hotline.service_process.templates import DEFAULTS, message_body
from hotline.web.accounts.service import actor_of
from hotline.web.answers.routes import AnswerIn, answers_of
from hotline.web.base.bodies import read_form
from hotline.web.base.keys import PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem, redirect
from hotline.web.base.room import WebRoom
from hotline.web.texts.routes import templates_now
from hotline.web.workorders.routes import process_of
from hotline.web.workorders.schemas import TemplateIn

ADMIN = frozenset({Role.ADMIN})
PAGE = "/admin/texts"
SAMPLE = {"case": "C-2026-000123", "link": "https://hotline.example/survey/…", "status": "resolved"}


def _field(form: Any, name: str, limit: int = 8000) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _render(request: web.Request, *, status: int = 200, error: str = "", editing: str = "") -> web.Response:
    outreach = process_of(request.app).outreach
    templates = await templates_now(request.app)
    previews = {(t.event, t.channel, t.language): await message_body(outreach, t.event, t.channel, t.language,
                                                                      **SAMPLE) for t in templates}
    answers = await answers_of(request.app).search("", limit=200)
    return request.app[WEB_KEY].pages.render(
        request, "texts/page.html", status=status, error=error, editing=editing, templates=templates,
        previews=previews, answers=answers,
    )


async def texts_page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


def _problem(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


async def template_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    fields = {k: _field(form, k, 2000) for k in ("event", "channel", "language", "body")}
    editing = f"template-{fields['event']}-{fields['channel']}-{fields['language']}"
    try:
        body = TemplateIn.model_validate(fields)
    except ValidationError as exc:
        return await _render(request, status=422, error=_problem(exc), editing=editing)
    if (body.event, body.channel, body.language) not in DEFAULTS:
        return await _render(request, status=422, error=f"language: no {body.language!r} template", editing=editing)
    await process_of(request.app).outreach.save_template(
        actor_of(request[PRINCIPAL]), body.event, body.channel, body.language, body.body)
    return redirect(f"{PAGE}#{editing}")


async def answer_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    fields: dict[str, Any] = {k: _field(form, k) for k in ("key", "title", "body", "language", "queue", "category",
                                                            "kind")}
    fields = {k: v for k, v in fields.items() if v or k in ("key", "title", "body", "language")}
    fields["ivr_nodes"] = _field(form, "ivr_nodes", 2000).replace(",", " ").split()
    editing = f"answer-{fields['key'] or 'new'}"
    try:
        body = AnswerIn.model_validate(fields)
    except ValidationError as exc:
        return await _render(request, status=422, error=_problem(exc), editing=editing)
    await answers_of(request.app).save(
        actor_of(request[PRINCIPAL]), body.key, title=body.title, body=body.body, language=body.language,
        queue=body.queue, category=body.category, kind=body.kind, ivr_nodes=body.ivr_nodes,
    )
    return redirect(f"{PAGE}#answer-{body.key}")


async def answer_history(request: web.Request) -> web.StreamResponse:
    versions = await answers_of(request.app).versions(request.match_info["key"])
    if not versions:
        raise web.HTTPNotFound()
    return request.app[WEB_KEY].pages.render(request, "texts/history.html", key=request.match_info["key"],
                                             versions=versions)


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("texts.nav", PAGE, ADMIN, order=62))
    room.pages.route("GET", PAGE, texts_page, roles=ADMIN)
    room.pages.route("POST", f"{PAGE}/templates", template_form, roles=ADMIN)
    room.pages.route("POST", f"{PAGE}/answers", answer_form, roles=ADMIN)
    room.pages.route("GET", PAGE + "/answers/{key}", answer_history, roles=ADMIN)
