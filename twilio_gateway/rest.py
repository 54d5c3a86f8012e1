"""Twilio's REST API, as much of it as Hotline uses: redirect a live call to new TwiML,
hang it up, place an outbound call. The `twilio.rest.Client` gets an asynchronous HTTP
client (injected in tests, `AsyncTwilioHttpClient` with a timeout in production); its
errors become `TwilioApiError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.rest import Client

from twilio_gateway.errors import TwilioApiError
from twilio_gateway.settings import TwilioSettings

log = logging.getLogger("hotline.twilio")

REQUEST_TIMEOUT = 10.0
T = TypeVar("T")


class TwilioCalls:
    def __init__(
        self, settings: TwilioSettings, http_client: AsyncHttpClient, *, timeout: float = REQUEST_TIMEOUT
    ) -> None:
        self.client = Client(
            settings.account_sid, settings.auth_token, settings.account_sid,
            http_client=http_client, environment={},
        )
        if settings.api_url != "https://api.twilio.com":  # a stand-in of Twilio's REST API
            self.client.api.base_url = settings.api_url
        self.timeout = timeout

    async def update_twiml(self, call_sid: str, twiml: str) -> None:
        """Replace what a live call is doing with `twiml` (stops hold music, a ringing <Dial>...)."""
        await self._call(self.client.calls(call_sid).update_async(twiml=twiml), "update", call_sid)

    async def redirect(self, call_sid: str, url: str) -> None:
        await self._call(
            self.client.calls(call_sid).update_async(url=url, method="POST"), "redirect", call_sid
        )

    async def hangup(self, call_sid: str) -> None:
        await self._call(self.client.calls(call_sid).update_async(status="completed"), "hangup", call_sid)

    async def create(
        self, *, to: str, from_: str, twiml: str, status_callback: str, events: tuple[str, ...]
    ) -> str:
        """Place an outbound call; returns its CallSid."""
        instance = await self._call(
            self.client.calls.create_async(
                to=to,
                from_=from_,
                twiml=twiml,
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(events),
            ),
            "create",
            to,
        )
        return str(instance.sid)

    async def _call(self, op: Awaitable[T], what: str, subject: str) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await op
        except TwilioRestException as exc:
            raise TwilioApiError(
                f"twilio {what} {subject}: HTTP {exc.status} {exc.msg}", exc.status,
                {"code": exc.code, "uri": exc.uri, "details": exc.details},
            ) from exc
        except TimeoutError as exc:
            raise TwilioApiError(f"twilio {what} {subject}: no answer in {self.timeout} s") from exc
        except (TwilioException, aiohttp.ClientError, OSError) as exc:
            raise TwilioApiError(f"twilio {what} {subject}: {exc}") from exc
