"""Webhook authentication: every request must carry Twilio's signature over the public URL.

Checks, in order, each answered with its own status and never a 500:
  413 body larger than `max_body_bytes` (refused before reading it all, whether the size is
      announced by Content-Length or the body comes chunked),
  403 no X-Twilio-Signature header,
  408 the body did not arrive within `body_timeout` seconds (a stalled or slow peer),
  400 body not a UTF-8 application/x-www-form-urlencoded form,
  403 signature does not match the public URL and the parameters (forged, or replayed with
      altered parameters or to another URL).
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from hotline.logs import printable
from twilio_gateway.settings import TwilioSettings

log = logging.getLogger("hotline.twilio")

SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_FIELDS = 200
BODY_TIMEOUT = 10.0  # default seconds for the whole body to arrive


class SignatureChecker:
    def __init__(self, settings: TwilioSettings, *, body_timeout: float = BODY_TIMEOUT) -> None:
        self.settings = settings
        self.validator = RequestValidator(settings.auth_token)
        self.body_timeout = body_timeout

    def _public(self, request: web.Request) -> str:
        return self.settings.public_url_of(request.rel_url.raw_path_qs)

    async def read_form(self, request: web.Request) -> MultiDict[str]:
        """The validated form parameters of a webhook POST, or an HTTP error."""
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise _error(web.HTTPRequestEntityTooLarge, request, "body too large",
                         max_size=limit, actual_size=request.content_length)
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise _error(web.HTTPForbidden, request, "missing signature")
        body = await _read_body(request, limit, self.body_timeout)
        if body and request.content_type != "application/x-www-form-urlencoded":
            raise _error(web.HTTPBadRequest, request, f"unexpected content type {request.content_type}")
        try:
            pairs = parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                max_num_fields=MAX_FIELDS, encoding="utf-8", errors="strict",
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise _error(web.HTTPBadRequest, request, f"malformed form body: {exc}") from exc
        form: MultiDict[str] = MultiDict(pairs)
        if not self.validator.validate(self._public(request), form, signature):
            raise _error(web.HTTPForbidden, request, "invalid signature")
        return form

    def check_upgrade(self, request: web.Request) -> None:
        """Media Stream WebSocket upgrades are signed over the stream URL, without parameters:
        the wss:// form written in our TwiML (its http(s):// form is accepted too)."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise _error(web.HTTPForbidden, request, "missing signature")
        public = self._public(request)
        scheme, rest = public.split("://", 1)
        url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}"
        if not (
            self.validator.validate(url, {}, signature)
            or self.validator.validate(public, {}, signature)
        ):
            raise _error(web.HTTPForbidden, request, "invalid signature")


async def _read_body(request: web.Request, limit: int, within: float) -> bytes:
    """The whole body, however many TCP segments or chunks it comes in (one `read(n)`
    returns only what has arrived), refused with 413 as soon as it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(within):
            while True:
                chunk = await request.content.read(limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise _error(web.HTTPRequestEntityTooLarge, request, "body too large",
                                 max_size=limit, actual_size=size)
    except TimeoutError as exc:
        raise _error(web.HTTPRequestTimeout, request, "body not received in time") from exc
    return b"".join(chunks)


def _error(
    cls: type[web.HTTPClientError], request: web.Request, reason: str, **kwargs: int
) -> web.HTTPClientError:
    log.warning("twilio webhook %s refused: %s", printable(request.path), printable(reason))
    if cls is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(max_size=kwargs["max_size"], actual_size=kwargs["actual_size"])
    return cls(text=reason)
