"""`hotline serve` with a `state:` section: the ACD's events reach the Redis Stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from redis import asyncio as aioredis

from acd.clock import VirtualClock
from acd.events import Event
from acd.replay import acd_state
from casestore.store import open_store
from hotline.config import ConfigError, HotlineConfig, parse_config
from hotline.web.base.keys import ACD_KEY
from hotline.wiring import build_app
from state.redis_events import read_events, rebuild_from_redis
from state.service import STATE_KEY
from state.settings import StateSettings
from tests.hotline.test_wiring import CONFIG

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def stream() -> AsyncIterator[str]:
    key = f"test:hotline:{uuid.uuid4().hex}"
    yield key
    client = aioredis.from_url(REDIS)
    await client.delete(key)
    await client.aclose()


def config_with(state: object) -> HotlineConfig:
    raw = yaml.safe_load(CONFIG.read_text())
    raw["state"] = state
    return parse_config(raw, CONFIG)


async def test_server_publishes_the_acd_events(stream: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    config = config_with({"mode": "publish", "url": REDIS, "stream": stream})
    clock = VirtualClock(1_800_000_000.0)
    app = build_app(config, clock=clock, store_url=url, speech=False, asterisk=False)
    async with TestClient(TestServer(app)):
        acd = app[ACD_KEY]
        seen: list[Event] = []
        acd.subscribe(seen.append)
        acd.login("1001")
        acd.arrive("call-1", "booking", caller="+821012345678")
        acd.arrive("call-2", "booking")
        await app[STATE_KEY].flush(10.0)
        settings = StateSettings(REDIS, stream=stream)
        assert await read_events(settings) == seen
        twin = await rebuild_from_redis(
            settings, config.queues, config.agents, VirtualClock(clock.now()),
            start=clock.now(),
        )
        assert acd_state(twin) == acd_state(acd)


def test_a_bad_state_section_refuses_the_start() -> None:
    with pytest.raises(ConfigError, match=r"state\.steam: unknown key \(did you mean .stream.\?\)"):
        build_app(config_with({"url": REDIS, "steam": "x"}), speech=False, asterisk=False)


def test_no_url_publishes_nothing() -> None:
    app = build_app(config_with({"stream": "x"}), speech=False, asterisk=False)
    assert STATE_KEY not in app
