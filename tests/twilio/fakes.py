"""Hand-written fakes for the Twilio tests: Twilio's REST API behind an injected HTTP client,
a signing webhook poster, a scripted speech session."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from casestore.ivr_feed import IvrStepRecord, ivr_items
from ivr.events import IvrEvent
from ivr.speech import Recognition

ACCOUNT = "AC" + "0" * 31 + "1"
TOKEN = "test-auth-token-1234"
PUBLIC = "https://hotline.example.com"


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    url: str
    data: dict[str, Any]
    auth: tuple[str, str] | None
    params: dict[str, Any] | None = None


class FakeTwilioApi(AsyncHttpClient):
    """Answers like Twilio's REST API (Calls, and Conferences' Participants) and records every
    request. Participants it creates get CallSids CA...c001, CA...c002, ...

    `fail[call_sid] = status` makes requests about that call fail with Twilio's error body;
    `children[call_sid] = leg` is the live child leg a list of the call's children finds.
    """

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fake-twilio"), True, None)
        self.requests: list[ApiRequest] = []
        self.fail: dict[str, int] = {}
        self.children: dict[str, str] = {}
        self.arrived = asyncio.Event()
        self._created = 0
        self._participants_created = 0

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (HttpClient's signature)
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append(ApiRequest(method, uri, dict(data or {}), auth, dict(params) if params else None))
        self.arrived.set()
        path = urlsplit(uri).path
        parts = path.removesuffix(".json").split("/")
        if method == "GET" and parts[-1] == "Calls":
            parent = str((params or {}).get("ParentCallSid", ""))
            found = [self._call(self.children[parent], {}, "in-progress")] if parent in self.children else []
            return Response(200, json.dumps({"calls": found, "next_page_uri": None, "page": 0, "page_size": 1,
                                             "uri": path, "first_page_uri": path, "previous_page_uri": None,
                                             "start": 0, "end": len(found)}))
        sid = parts[-1] if parts[-1].startswith("CA") else ""
        if sid and sid in self.fail:
            status = self.fail[sid]
            body = {"code": 20404, "message": f"The requested resource {path} was not found",
                    "more_info": "https://www.twilio.com/docs/errors/20404", "status": status}
            return Response(status, json.dumps(body))
        if "Participants" in parts:
            return self._participants(method, parts, data or {})
        if method == "POST" and parts[-1] == "Calls":
            self._created += 1
            sid = f"CA{0xF000 + self._created:032x}"
            return Response(201, json.dumps(self._call(sid, data or {}, "queued")))
        return Response(200, json.dumps(self._call(sid, data or {}, "in-progress")))

    def _participants(self, method: str, parts: list[str], data: dict[str, object]) -> Response:
        conference = parts[parts.index("Conferences") + 1]
        if method == "DELETE":
            return Response(204, "")
        if parts[-1] == "Participants":
            self._participants_created += 1
            sid = f"CA{0xC000 + self._participants_created:032x}"
            return Response(201, json.dumps(self._participant(conference, sid, data, "queued")))
        return Response(200, json.dumps(self._participant(conference, parts[-1], data, "connected")))

    @staticmethod
    def _participant(conference: str, sid: str, data: dict[str, object], status: str) -> dict[str, object]:
        return {
            "account_sid": ACCOUNT, "call_sid": sid, "conference_sid": conference, "status": status,
            "label": data.get("Label"), "hold": data.get("Hold") == "true", "muted": data.get("Muted") == "true",
            "coaching": data.get("Coaching") == "true", "call_sid_to_coach": data.get("CallSidToCoach"),
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/{conference}/Participants/{sid}.json",
        }

    @staticmethod
    def _call(sid: str, data: dict[str, object], status: str) -> dict[str, object]:
        return {
            "sid": sid, "account_sid": ACCOUNT, "status": status, "to": data.get("To", ""),
            "from": data.get("From", ""), "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json",
        }

    async def wait_for(self, count: int) -> list[ApiRequest]:
        async with asyncio.timeout(5.0):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.requests


class Poster:
    """Posts webhooks to the running server, signed as Twilio signs them (over the public URL)."""

    def __init__(self, session: aiohttp.ClientSession, local: str, public: str = PUBLIC,
                 token: str = TOKEN) -> None:
        self.session = session
        self.local = local.rstrip("/")
        self.public = public
        self.validator = RequestValidator(token)

    def sign(self, path_qs: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(self.public + path_qs, params))

    async def post(
        self, path_qs: str, params: dict[str, str], *, signature: str | None = None,
        sign: bool = True,
    ) -> tuple[int, str]:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = signature or self.sign(path_qs, params)
        async with self.session.post(self.local + path_qs, data=params, headers=headers) as resp:
            return resp.status, await resp.text()

    async def twiml(self, path_qs: str, params: dict[str, str]) -> str:
        status, text = await self.post(path_qs, params)
        assert status == 200, (status, text)
        return text


class ScriptedSpeech:
    """A SpeechSession that hears speech after `start_after` frames and answers `result`
    after `answer_after` frames (None: never; `finish()` then answers)."""

    def __init__(self, result: Recognition, start_after: int | None, answer_after: int | None) -> None:
        self.result = result
        self.start_after = start_after
        self.answer_after = answer_after
        self.fed: list[bytes] = []
        self.closed = False
        self.finished = False

    async def feed(self, pcm: bytes) -> Recognition | None:
        self.fed.append(pcm)
        if self.answer_after is not None and len(self.fed) >= self.answer_after:
            return self.result
        return None

    def speech_started(self) -> bool:
        return self.start_after is not None and len(self.fed) >= self.start_after

    async def finish(self) -> Recognition:
        self.finished = True
        return self.result if self.speech_started() else Recognition("", 0.0)

    async def close(self) -> None:
        self.closed = True


class FakeRecognizer:
    def __init__(self, session: ScriptedSpeech, languages: Sequence[str] = ("ko",)) -> None:
        self._session = session
        self._languages = tuple(languages)
        self.asked: list[tuple[str, tuple[str, ...] | None]] = []

    def languages(self) -> Sequence[str]:
        return self._languages

    def session(self, language: str, grammar: Sequence[str] | None) -> ScriptedSpeech:
        self.asked.append((language, None if grammar is None else tuple(grammar)))
        return self._session


class StepLog:
    """A `hotline.ports.CallRecorder` that records what the gateway hands to the case store;
    IVR events are turned into steps by the store's own mapping (`casestore.ivr_feed`)."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, str, str, str]] = []  # call id, source, caller, dialed
        self.events: list[IvrEvent] = []
        self.steps: list[tuple[str, str, str, str | None]] = []
        self.ends: list[tuple[str, str]] = []  # call id, outcome
        self.recordings: list[tuple[str, Any]] = []

    def record_call_start(
        self, call_id: str, *, source: str = "", caller: str = "", dialed: str = "",
        language: str = "", at: float | None = None,
    ) -> None:
        self.starts.append((call_id, source, caller, dialed))

    def on_ivr_event(self, event: IvrEvent) -> None:
        self.events.append(event)
        for item in ivr_items(event):
            if isinstance(item, IvrStepRecord):
                self.steps.append((item.call_id, item.node, item.kind, item.input))
            else:
                self.ends.append((item.call_id, item.outcome))

    def record_recording(self, call_id: str, info: Any) -> None:
        self.recordings.append((call_id, info))


class BrokenSpeech(ScriptedSpeech):
    """A session whose recognizer fails on the first frame."""

    async def feed(self, pcm: bytes) -> Recognition | None:
        from speech.errors import SpeechError

        self.fed.append(pcm)
        raise SpeechError("recognition step took too long")
