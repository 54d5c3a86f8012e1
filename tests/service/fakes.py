"""Fakes at the edge of the service process: Twilio's Messages resource behind an injected
HTTP client, and a real SMTP server (aiosmtpd) on a free port that keeps what it receives."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

ACCOUNT = "AC" + "0" * 31 + "7"
TOKEN = "service-test-token"
FROM = "+15005550006"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    url: str
    data: dict[str, Any]
    auth: tuple[str, str] | None


class FakeMessagesApi(AsyncHttpClient):
    """Answers like Twilio's Messages resource; `status` set to 4xx makes it refuse."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fake-twilio-messages"), True, None)
        self.requests: list[ApiRequest] = []
        self.status = 201
        self.arrived = asyncio.Event()

    async def request(
        self, method: str, uri: str, params: dict[str, object] | None = None, data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (HttpClient's signature)
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append(ApiRequest(method, uri, dict(data or {}), auth))
        self.arrived.set()
        if self.status >= 400:
            body = {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                    "more_info": "https://www.twilio.com/docs/errors/21211", "status": self.status}
            return Response(self.status, json.dumps(body))
        sid = f"SM{len(self.requests):032x}"
        d = data or {}
        return Response(201, json.dumps({
            "sid": sid, "account_sid": ACCOUNT, "to": d.get("To"), "from": d.get("From"), "body": d.get("Body"),
            "status": "queued", "direction": "outbound-api", "num_segments": "1",
        }))


class SmtpInbox:
    """What the SMTP server received: parsed messages and their envelopes."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.arrived.set()
        return "250 OK"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[SmtpInbox, int]]:
    """A real SMTP server (aiosmtpd's protocol) on a free port of this event loop."""
    inbox = SmtpInbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox, hostname="hotline-test"), "127.0.0.1", 0)
    try:
        yield inbox, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
