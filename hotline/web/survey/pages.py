"""The customer's survey: a public page from the link in their message (signed, expiring, one
use; no sign-in), and Twilio's webhooks for SMS replies with a score and delivery statuses
(signature checked over the public URL, as the Twilio gateway does)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from aiohttp import web
from twilio.request_validator import RequestValidator

from casestore.service_process.survey_links import BadSurveyLink
from hotline.roles import PUBLIC_ROLES
from hotline.service_process.wiring import MESSAGING_KEY, SERVICE_KEY
from hotline.web.base.bodies import read_form
from hotline.web.base.keys import WEB_KEY
from hotline.web.base.room import WebRoom
from hotline.web.base.security import SIGNED_WEBHOOK_HEADER

log = logging.getLogger("hotline.service")
MAX_WEBHOOK_BYTES = 16 * 1024
SCORES = (1, 2, 3, 4, 5)


def add_pages(room: WebRoom) -> None:
    room.pages.route("GET", "/survey/{token}", survey_page, roles=PUBLIC_ROLES)
    room.pages.route("POST", "/survey/{token}", survey_submit, roles=PUBLIC_ROLES)
    room.pages.route("POST", "/service/twilio/sms", sms_reply, roles=PUBLIC_ROLES)
    room.pages.route("POST", "/service/twilio/message-status", message_status, roles=PUBLIC_ROLES)


def _refused(request: web.Request, exc: BadSurveyLink) -> web.Response:
    log.info("survey link refused: %s", exc.reason)
    status = 410 if exc.reason in ("expired", "used") else 403
    return request.app[WEB_KEY].pages.render(request, "survey/refused.html", status=status, reason=exc.reason)


async def survey_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    try:
        number = await request.app[SERVICE_KEY].survey_case(token)
    except BadSurveyLink as exc:
        return _refused(request, exc)
    return request.app[WEB_KEY].pages.render(
        request, "survey/form.html", case=number, token=token, scores=SCORES, error=False)


async def survey_submit(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    process = request.app[SERVICE_KEY]
    form = await read_form(request)
    raw = form.get("score", "")
    if not isinstance(raw, str) or raw not in {str(s) for s in SCORES}:
        try:
            number = await process.survey_case(token)
        except BadSurveyLink as exc:
            return _refused(request, exc)
        return request.app[WEB_KEY].pages.render(
            request, "survey/form.html", status=400, case=number, token=token, scores=SCORES, error=True)
    try:
        number = await process.answer_survey(token, int(raw))
    except BadSurveyLink as exc:
        return _refused(request, exc)
    return request.app[WEB_KEY].pages.render(request, "survey/thanks.html", case=number)


async def _signed_form(request: web.Request) -> dict[str, str]:
    """The form of a Twilio webhook whose signature holds over the public URL, else 403/400/413."""
    settings = request.app[MESSAGING_KEY]
    signature = request.headers.get(SIGNED_WEBHOOK_HEADER, "")
    if not settings.enabled or not signature:
        raise web.HTTPForbidden(text="missing signature")
    body = await request.content.read(MAX_WEBHOOK_BYTES + 1)
    if len(body) > MAX_WEBHOOK_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_WEBHOOK_BYTES, actual_size=len(body))
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"malformed form body: {exc}") from exc
    form = dict(pairs)
    url = f"{request.app[WEB_KEY].base_url}{request.rel_url.raw_path_qs}"
    if not RequestValidator(settings.auth_token).validate(url, form, signature):
        log.warning("twilio webhook %s refused: invalid signature", request.path)
        raise web.HTTPForbidden(text="invalid signature")
    return form


async def sms_reply(request: web.Request) -> web.StreamResponse:
    form = await _signed_form(request)
    number = await request.app[SERVICE_KEY].sms_reply(form.get("From", ""), form.get("Body", ""))
    log.info("sms reply %s", f"scored case {number}" if number else "without an open survey or score")
    twiml = "<Response><Message>Thank you.</Message></Response>" if number else "<Response/>"
    return web.Response(text=f'<?xml version="1.0" encoding="UTF-8"?>{twiml}', content_type="text/xml")


async def message_status(request: web.Request) -> web.StreamResponse:
    form = await _signed_form(request)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if sid and status:
        await request.app[SERVICE_KEY].outreach.delivery_status(sid, status[:16])
    return web.Response(status=204)
