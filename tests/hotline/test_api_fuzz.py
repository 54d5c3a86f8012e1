"""Fuzzing every state-changing API route the OpenAPI document lists, signed in as an admin
with a real token: any JSON value, any bytes, any charset gives a JSON answer below 500, and
the server keeps answering `/healthz`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.harness import start_rig

EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "6"))
WRITES = ("post", "put", "patch", "delete")
# what a path parameter is filled with: known ids of the sample config, and ones that do not exist
PARAMS = ["1001", "c1", "skyrail-main", "HL-2026-000001", "1", "nope", "%00", "9" * 30]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["login", "pause", "logout", "unpause", "wrap_done", "resume", "en", "admin"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["action", "reason", "code", "active", "announcement", "scope",
                                       "version", "status", "priority", "queue", "note", "x"]),
                      inner, max_size=4),
    max_leaves=15,
)
bodies = st.one_of(
    json_values.map(lambda v: (json.dumps(v).encode(), "application/json")),
    st.binary(max_size=64).map(lambda b: (b, "application/json")),
    st.tuples(st.just(b'{"action": "login"}'),
              st.sampled_from(["utf-8", "latin-1", "utf-16", "nope", "rot13", ""]).map(
                  lambda c: f"application/json; charset={c}")),
    st.binary(max_size=64).map(lambda b: (b, "text/plain")),
)
requests = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), bodies), min_size=25, max_size=25)


def _routes(document: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (method, path) for path, operations in document["paths"].items()
        for method in operations if method in WRITES
    )


async def _fuzz(sent: list[tuple[int, int, tuple[bytes, str]]]) -> list[tuple[str, int, str]]:
    with tempfile.TemporaryDirectory() as folder:
        async for rig in start_rig(Path(folder)):
            await rig.add_user("fuzzer", "admin")
            headers = await rig.bearer("fuzzer")
            document = await (await rig.client.get("/api/openapi.json", headers=headers)).json()
            routes = _routes(document)
            assert len(routes) >= 20, routes
            answers = []
            for route, param, (body, content_type) in sent:
                method, path = routes[route % len(routes)]
                url = re.sub(r"\{[^}]+\}", PARAMS[param % len(PARAMS)], path)
                response = await rig.client.request(
                    method.upper(), url, data=body, headers={**headers, "Content-Type": content_type}
                )
                answers.append((f"{method} {url}", response.status, response.content_type))
            health = await rig.client.get("/healthz")
            answers.append(("get /healthz", health.status, health.content_type))
            assert health.status == 200
    return answers


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_random_bodies_on_every_write_route_get_json_answers_below_500(
    sent: list[tuple[int, int, tuple[bytes, str]]],
) -> None:
    answers = asyncio.run(_fuzz(sent))
    bad = [a for a in answers if a[1] >= 500 or a[2] != "application/json"]
    assert not bad, bad
