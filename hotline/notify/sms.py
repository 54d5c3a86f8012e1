"""SMS through Twilio's Messaging API (`twilio.rest.Client.messages`), with an injected
asynchronous HTTP client (tests) or Twilio's own with a timeout (production)."""

from __future__ import annotations

import asyncio

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.rest import Client

from hotline.notify.settings import MessagingSettings


class DeliveryError(Exception):
    """A message could not be handed to the provider (the message is kept as failed)."""


class TwilioSms:
    def __init__(self, settings: MessagingSettings, http_client: AsyncHttpClient) -> None:
        self.settings = settings
        self.client = Client(
            settings.account_sid, settings.auth_token, settings.account_sid,
            http_client=http_client, environment={},
        )

    async def send(self, to: str, body: str) -> str:
        """Send one SMS; returns Twilio's MessageSid."""
        kwargs: dict[str, str] = {"to": to, "body": body}
        if self.settings.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.settings.messaging_service_sid
        else:
            kwargs["from_"] = self.settings.from_number
        if self.settings.status_callback:
            kwargs["status_callback"] = self.settings.status_callback
        try:
            async with asyncio.timeout(self.settings.timeout):
                message = await self.client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            raise DeliveryError(f"twilio message: HTTP {exc.status} {exc.msg}") from exc
        except TimeoutError as exc:
            raise DeliveryError(f"twilio message: no answer in {self.settings.timeout} s") from exc
        except (TwilioException, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"twilio message: {exc}") from exc
        return str(message.sid)
