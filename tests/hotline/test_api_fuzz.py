"""Fuzzing the existing API handlers' request bodies: any JSON value, any bytes, any charset
gives a JSON answer below 500."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.clock import VirtualClock
from casestore.store import open_store
from hotline.config import load_config
from hotline.wiring import build_app

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
ADMIN = {"Authorization": "Bearer change-me-admin"}
ROUTES = [
    "/api/agents/1001/state", "/api/agents/1001/disposition", "/api/emergency",
    "/api/menus/skyrail-main/activate", "/api/calls/c1/recording",
]
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "8"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["login", "pause", "logout", "unpause", "wrap_done", "resume", "en"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["action", "reason", "code", "active", "announcement", "scope",
                                       "version", "x"]), inner, max_size=4),
    max_leaves=15,
)
bodies = st.one_of(
    json_values.map(lambda v: (json.dumps(v).encode(), "application/json")),
    st.binary(max_size=64).map(lambda b: (b, "application/json")),
    st.tuples(st.just(b'{"action": "login"}'),
              st.sampled_from(["utf-8", "latin-1", "utf-16", "nope", "rot13", "base64", ""]).map(
                  lambda c: f"application/json; charset={c}")),
)


async def _post_all(requests: list[tuple[str, tuple[bytes, str]]]) -> list[tuple[int, str]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/hotline.db"
        async with open_store(url, create=True):
            pass
        app = build_app(load_config(CONFIG), clock=VirtualClock(1_800_000_000.0), store_url=url,
                        speech=False, asterisk=False)
        answers = []
        async with TestClient(TestServer(app)) as client:
            for route, (body, content_type) in requests:
                response = await client.post(route, data=body, headers={**ADMIN, "Content-Type": content_type})
                answers.append((response.status, response.content_type))
            health = await client.get("/health")
            answers.append((health.status, health.content_type))
        return answers


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ROUTES), bodies), min_size=30, max_size=30))
def test_random_bodies_get_json_answers_below_500(requests: list[tuple[str, Any]]) -> None:
    answers = asyncio.run(_post_all(requests))
    assert all(status < 500 and kind == "application/json" for status, kind in answers), answers
