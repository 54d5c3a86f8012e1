"""`/metrics` scraped from a running server and parsed with prometheus-client's own parser:
the ACD's queues and agents, call counters, routing, AMI, FastAGI, webhooks, the case-store
writer's backlog and lag, the state stream's drops, and the recogniser's timings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from redis import asyncio as aioredis

from acd.clock import VirtualClock
from asterisk.service import ASTERISK_KEY
from hotline.config import HotlineConfig, load_config
from hotline.metrics.speech import RecognizerMetrics
from hotline.web.base.keys import ACD_KEY
from hotline.wiring import STORE_KEY, build_app
from ivr.speech import Recognition
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.hotline.test_health import configured
from tests.state.proxy import RedisRelay
from tests.twilio.fakes import FakeTwilioApi, call_sid
from tests.twilio.test_fuzz import post

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.yaml"
TOKEN = "fuzz-auth-token"

Client = TestClient[object, object]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
async def stream() -> AsyncIterator[str]:
    key = f"test:hotline:{uuid.uuid4().hex}"
    yield key
    redis = aioredis.from_url("redis://127.0.0.1:6379/0")
    await redis.delete(key)
    await redis.aclose()


def full_config(fake: FakeAsterisk, redis_url: str, stream: str, **state: Any) -> HotlineConfig:
    base = load_config(CONFIG)
    asterisk = {**base.sections["asterisk"],
                "ami": {"host": "127.0.0.1", "port": fake.port, "username": "hotline",
                        "secret": "s3cret", "connect_timeout": 1, "backoff_initial": 0.01,
                        "backoff_max": 0.05},
                "fastagi": {"host": "127.0.0.1", "port": 0}}
    twilio = {**base.sections["twilio"], "enabled": True, "auth_token": TOKEN,
              "public_url": "https://hotline.example.com"}
    return configured(asterisk=asterisk, twilio=twilio,
                      state={"mode": "publish", "url": redis_url, "stream": stream, "timeout": 0.5, **state})


async def test_scrape_of_a_running_server(sqlite_url: str, stream: str) -> None:
    url = sqlite_url
    fake = FakeAsterisk(secret="s3cret")
    await fake.start()
    clock = VirtualClock(1_800_000_000.0)
    try:
        app = build_app(full_config(fake, "redis://127.0.0.1:6379/0", stream), clock=clock,
                        store_url=url, speech=False, twilio_http_client=FakeTwilioApi())
        async with TestClient(TestServer(app)) as client:
            await app[ASTERISK_KEY].ami.wait_ready(5)
            acd = app[ACD_KEY]
            acd.login("1001")
            acd.arrive("c1", "booking", caller="+821012345678")  # routed to 1001 at once
            clock.advance(3)
            acd.answer("c1")
            acd.arrive("c2", "booking")
            acd.arrive("c3", "refund")
            clock.advance(40)
            acd.abandon("c3")
            status, _ = await post(client, "status", {}, {"CallSid": call_sid(9), "CallStatus": "completed"})
            assert status == 200

            samples = await scrape(client)
            assert value(samples, "hotline_calls_waiting", queue="booking") == 1
            assert value(samples, "hotline_queue_longest_wait_seconds", queue="booking") == 40
            assert value(samples, "hotline_calls_waiting", queue="refund") == 0
            assert value(samples, "hotline_agents", state="on_call") == 1
            assert value(samples, "hotline_agents", state="logged_out") == len(acd.agents) - 1
            assert value(samples, "hotline_calls_offered_total", queue="booking") == 2
            assert value(samples, "hotline_calls_offered_total", queue="refund") == 1
            assert value(samples, "hotline_calls_answered_total", queue="booking") == 1
            assert value(samples, "hotline_calls_abandoned_total", queue="refund", reason="caller_hangup") == 1
            assert value(samples, "hotline_routing_decisions_total", queue="booking") == 1
            assert value(samples, "hotline_routing_latency_seconds_count", queue="booking") == 1
            assert value(samples, "hotline_routing_latency_seconds_sum", queue="booking") == 0
            assert value(samples, "hotline_ami_up") == 1
            assert value(samples, "hotline_ami_logins_total") == 1
            assert value(samples, "hotline_ami_reconnects_total") == 0
            assert value(samples, "hotline_fastagi_sessions_active") == 0
            assert value(samples, "hotline_fastagi_sessions_total") == 0
            assert value(samples, "hotline_webhook_seconds_count", webhook="status", status="200") == 1
            assert value(samples, "hotline_state_redis_up") == 1
            assert value(samples, "hotline_events_dropped_total") == 0
            assert ("hotline_casestore_backlog", frozenset()) in samples
            assert ("process_resident_memory_bytes", frozenset()) in samples

            fake.drop()  # the AMI link breaks and comes back
            await fake.wait_for(lambda: fake.logins >= 2)
            await app[ASTERISK_KEY].ami.wait_ready(5)
            samples = await scrape(client)
            assert value(samples, "hotline_ami_reconnects_total") == 1
            assert value(samples, "hotline_ami_up") == 1

            result = await fake.agi_call(app[ASTERISK_KEY].agi.port, CallerScript(hangup_at=1))
            assert result.hung_up
            samples = await scrape(client)
            assert value(samples, "hotline_fastagi_sessions_total") == 1
    finally:
        await fake.close()


async def test_case_store_lag_and_backlog_while_the_database_is_away(
    pg_database: str, relay: RedisRelay
) -> None:
    clock = VirtualClock(1_800_000_000.0)
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{relay.port}/{pg_database}"
    app = build_app(configured(state={"mode": "memory"}), clock=clock, store_url=url, speech=False)
    async with TestClient(TestServer(app)) as client:
        writer = app[STORE_KEY].writer_instance
        assert writer is not None
        samples = await scrape(client)
        assert value(samples, "hotline_casestore_backlog") == 0
        assert value(samples, "hotline_casestore_write_lag_seconds") == 0

        await relay.stop()
        acd = app[ACD_KEY]
        acd.arrive("c1", "booking", caller="+821012345678")
        clock.advance(30)
        samples = await scrape(client)
        assert value(samples, "hotline_casestore_backlog") >= 1
        assert value(samples, "hotline_casestore_write_lag_seconds") == 30

        await relay.start()
        async with asyncio.timeout(20):
            await writer.drain()
        samples = await scrape(client)
        assert value(samples, "hotline_casestore_backlog") == 0
        assert value(samples, "hotline_casestore_write_lag_seconds") == 0
        assert value(samples, "hotline_casestore_rows_written_total") >= 1


async def test_state_stream_drops_are_counted(sqlite_url: str) -> None:
    """Redis away and a buffer of 2: the third event and later are dropped and counted."""
    relay = RedisRelay(("127.0.0.1", 6379))
    await relay.start()
    await relay.stop()  # nothing listens on its port now
    config = configured(state={"mode": "publish", "url": relay.url, "stream": "unused", "timeout": 0.2, "buffer": 2})
    app = build_app(config, clock=VirtualClock(1_800_000_000.0), store_url=sqlite_url, speech=False)
    async with TestClient(TestServer(app)) as client:
        acd = app[ACD_KEY]
        for n in range(5):
            acd.arrive(f"c{n}", "booking")
        samples = await scrape(client)
        assert value(samples, "hotline_state_events_buffered") == 2
        assert value(samples, "hotline_events_dropped_total") >= 5 * 2 - 2  # arrived + queued each


class ScriptedSession:
    def __init__(self, results: Sequence[Recognition | None], final: Recognition) -> None:
        self.results = list(results)
        self.final = final

    async def feed(self, pcm: bytes) -> Recognition | None:
        return self.results.pop(0) if self.results else None

    def speech_started(self) -> bool:
        return True

    async def finish(self) -> Recognition:
        return self.final

    async def close(self) -> None:
        return None


class ScriptedRecognizer:
    def __init__(self) -> None:
        self.threshold = 0.5

    def languages(self) -> Sequence[str]:
        return ["ko"]

    def session(self, language: str, grammar: Sequence[str] | None) -> ScriptedSession:
        return ScriptedSession([None, None], Recognition("환불", 0.87))


async def test_recogniser_steps_are_timed_and_confidence_recorded() -> None:
    registry = CollectorRegistry()
    measured = RecognizerMetrics(registry).wrap(ScriptedRecognizer())
    assert measured is not None
    assert measured.threshold == 0.5  # type: ignore[attr-defined]  (passed through)
    session = measured.session("ko", ["환불"])
    for _ in range(2):
        assert await session.feed(b"\x00\x00" * 160) is None
    assert (await session.finish()).text == "환불"
    await session.close()
    samples: Samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    assert value(samples, "hotline_recognizer_seconds_count", language="ko", step="feed") == 2
    assert value(samples, "hotline_recognizer_seconds_count", language="ko", step="finish") == 1
    assert value(samples, "hotline_recognizer_confidence_count", language="ko") == 1
    assert value(samples, "hotline_recognizer_confidence_sum", language="ko") == pytest.approx(0.87)
    assert value(samples, "hotline_recognizer_confidence_bucket", language="ko", le="0.8") == 0
    assert value(samples, "hotline_recognizer_confidence_bucket", language="ko", le="0.9") == 1
