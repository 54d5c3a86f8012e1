"""`/healthz` and `/readyz` on the server the wiring builds, with the real dependencies taken
away behind TCP relays: PostgreSQL, Redis, and a fake Asterisk that stops answering."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis import asyncio as aioredis

from acd.clock import VirtualClock
from hotline.config import ConfigError, HotlineConfig, load_config
from hotline.wiring import build_app
from tests.asterisk.fake_asterisk import FakeAsterisk
from tests.state.proxy import RedisRelay

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.yaml"
PG = ("127.0.0.1", 5432)

Client = TestClient[object, object]


def configured(**sections: Any) -> HotlineConfig:
    config = load_config(CONFIG)
    merged = {k: v for k, v in config.sections.items() if k != "asterisk"}
    merged.update({k: v for k, v in sections.items() if v is not None})
    return replace(config, sections=merged)


async def ready(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


async def test_ready_when_everything_answers_and_not_when_the_store_goes(
    pg_database: str, relay: RedisRelay
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{relay.port}/{pg_database}"
    app = build_app(configured(), clock=VirtualClock(1_800_000_000.0), store_url=url, speech=False)
    async with TestClient(TestServer(app)) as client:
        status, body = await ready(client)
        assert (status, body["status"]) == (200, "ready")
        assert body["checks"] == {"store": {"ok": True}, "menus": {"ok": True}}

        await relay.stop()  # PostgreSQL gone: connections cut, new ones refused
        status, body = await ready(client)
        assert (status, body["status"]) == (503, "not_ready")
        assert body["checks"]["store"]["ok"] is False
        assert body["checks"]["store"]["reason"].startswith("case store unreachable")
        assert body["checks"]["menus"] == {"ok": True}
        assert (await client.get("/healthz")).status == 200  # alive all the same
        assert (await client.get("/health")).status == 503  # the old name says the same

        await relay.start()  # back on the same port
        assert (await ready(client))[0] == 200


async def test_redis_check_when_the_state_stream_is_configured(sqlite_url: str) -> None:
    relay = RedisRelay(("127.0.0.1", 6379))
    await relay.start()
    stream = f"test:hotline:{uuid.uuid4().hex}"
    try:
        config = configured(state={"mode": "publish", "url": relay.url, "stream": stream, "timeout": 0.5})
        app = build_app(config, clock=VirtualClock(1_800_000_000.0), store_url=sqlite_url, speech=False)
        async with TestClient(TestServer(app)) as client:
            status, body = await ready(client)
            assert (status, body["checks"]["redis"]) == (200, {"ok": True})
            await relay.stop()
            status, body = await ready(client)
            assert status == 503
            assert body["checks"]["redis"]["reason"].startswith("Redis unreachable")
            assert body["checks"]["store"] == {"ok": True}
    finally:
        if relay._server is not None:
            await relay.stop()
        redis = aioredis.from_url("redis://127.0.0.1:6379/0")
        await redis.delete(stream)
        await redis.aclose()


async def test_ami_check_follows_the_link(sqlite_url: str) -> None:
    fake = FakeAsterisk(secret="s3cret")
    await fake.start()
    asterisk = {**load_config(CONFIG).sections["asterisk"],
                "ami": {"host": "127.0.0.1", "port": fake.port, "username": "hotline",
                        "secret": "s3cret", "connect_timeout": 1, "backoff_initial": 0.01,
                        "backoff_max": 0.05},
                "fastagi": {"host": "127.0.0.1", "port": 0}}
    try:
        app = build_app(configured(asterisk=asterisk), clock=VirtualClock(1_800_000_000.0),
                        store_url=sqlite_url, speech=False)
        async with TestClient(TestServer(app)) as client:
            from asterisk.service import ASTERISK_KEY

            ami = app[ASTERISK_KEY].ami
            await ami.wait_ready(5)
            status, body = await ready(client)
            assert (status, body["checks"]["asterisk"]) == (200, {"ok": True})
            with log_event("hotline.asterisk.ami", "AMI connection to") as lost:
                await fake.close()  # Asterisk stops: the link drops and reconnects are refused
                await asyncio.wait_for(lost.wait(), 5)
            assert not ami.ready.is_set()
            status, body = await ready(client)
            assert status == 503
            assert body["checks"]["asterisk"]["reason"].startswith("AMI not logged in")
    finally:
        await fake.close()


@contextmanager
def log_event(logger: str, text: str) -> Iterator[asyncio.Event]:
    """An event set when `logger` logs a line containing `text`."""
    seen = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if text in record.getMessage():
                seen.set()

    handler = Watch()
    logging.getLogger(logger).addHandler(handler)
    try:
        yield seen
    finally:
        logging.getLogger(logger).removeHandler(handler)


async def test_menus_check_names_what_is_missing(sqlite_url: str) -> None:
    config = configured(ivr={"menus": []})
    app = build_app(config, store_url=sqlite_url, speech=False)
    async with TestClient(TestServer(app)) as client:
        status, body = await ready(client)
        assert (status, body["checks"]["menus"]) == (503, {"ok": False, "reason": "no menu loaded"})

    # A default menu that no file defines never reaches the check: the config is refused.
    menus = load_config(CONFIG).sections["ivr"]["menus"]
    config = configured(ivr={"menus": [str(ROOT / "config" / m) for m in menus],
                             "default_menu": "no-such-menu"})
    with pytest.raises(ConfigError, match="no-such-menu"):
        build_app(config, store_url=sqlite_url, speech=False)
