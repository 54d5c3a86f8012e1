"""Twilio's REST API, as much of it as Hotline uses: redirect a live call to new TwiML,
hang it up, place an outbound call, find the leg a call's <Dial> bridged; add a participant to a conference, change (hold, mute,
coach) or remove one. The `twilio.rest.Client` gets an asynchronous HTTP
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

    async def child_leg(self, parent_sid: str) -> str | None:
        """The CallSid of the live leg a call's <Dial> bridged it to (its agent), if any."""
        calls = await self._call(
            self.client.calls.list_async(parent_call_sid=parent_sid, status="in-progress", limit=1),
            "list children of", parent_sid,
        )
        return str(calls[0].sid) if calls else None

    async def add_participant(
        self, conference_sid: str, *, to: str, from_: str, status_callback: str, ring: int,
        muted: bool = False, coaching: bool = False, call_sid_to_coach: str = "", label: str = "",
    ) -> str:
        """Dial `to` into the conference (Participants resource, ringing `ring` seconds);
        returns the new leg's CallSid."""
        options: dict[str, object] = {}
        if muted:
            options["muted"] = True
        if coaching:
            options.update(coaching=True, call_sid_to_coach=call_sid_to_coach)
        if label:
            options["label"] = label
        instance = await self._call(
            self.client.conferences(conference_sid).participants.create_async(
                from_=from_,
                to=to,
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["answered", "completed"],
                timeout=ring,
                beep="false",
                start_conference_on_enter=True,
                end_conference_on_exit=False,
                **options,
            ),
            "add participant",
            conference_sid,
        )
        return str(instance.call_sid)

    async def update_participant(self, conference_sid: str, call_sid: str, **fields: object) -> None:
        """Change a participant: `hold` (with `hold_url`), `muted`, `coaching`, `call_sid_to_coach`."""
        await self._call(
            self.client.conferences(conference_sid).participants(call_sid).update_async(**fields),
            "update participant",
            call_sid,
        )

    async def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        """Take a participant out of the conference (its call goes on after its <Dial>: it ends)."""
        await self._call(
            self.client.conferences(conference_sid).participants(call_sid).delete_async(),
            "remove participant",
            call_sid,
        )

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
