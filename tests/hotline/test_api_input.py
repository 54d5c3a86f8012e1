"""Bad request bodies get JSON 4xx, never a plain-text 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from tests.web.harness import WebRig


@pytest.fixture
async def client(web_rig: WebRig) -> AsyncIterator[TestClient[object, object]]:
    await web_rig.add_user("ada", "admin")
    ADMIN.clear()
    ADMIN.update(await web_rig.bearer("ada"))
    yield web_rig.client


ADMIN: dict[str, str] = {}


async def _post(client: TestClient[object, object], path: str, body: bytes, content_type: str) -> tuple[int, dict[str, object]]:
    response = await client.post(path, data=body, headers={**ADMIN, "Content-Type": content_type})
    assert response.content_type == "application/json"
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b'{"action": ["login"]}', "application/json", 400, "bad_action"),
        (b'{"action": {"a": 1}}', "application/json", 400, "bad_action"),
        (b'{"action": "pause", "reason": {"x": 1}}', "application/json", 400, "bad_action"),
        (b'{"action": "login"}', "application/json; charset=no-such-charset", 415, "unsupported_charset"),
        (b'{"action": "login"}', "application/json; charset=rot13", 415, "unsupported_charset"),
        (b"[" * 200_000 + b"]" * 200_000, "application/json", 413, "too_large"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "application/json", 400, "too_deep"),
        (b'{"action": NaN}', "application/json", 400, "bad_json"),
        (b'{"n": ' + b"1" * 5000 + b"}", "application/json", 400, "bad_json"),
        (b"\xff\xfe", "application/json", 400, "bad_json"),
        (b"[1]", "application/json", 400, "bad_action"),
    ],
)
async def test_bad_bodies_get_json_4xx(
    client: TestClient[object, object], body: bytes, content_type: str, status: int, error: str
) -> None:
    got_status, got = await _post(client, "/api/agents/1001/state", body, content_type)
    assert (got_status, got["error"]) == (status, error)


async def test_other_handlers_share_the_reader(client: TestClient[object, object]) -> None:
    status, body = await _post(client, "/api/emergency", b'{"active": ' * 50 + b"1" + b"}" * 50, "application/json")
    assert (status, body["error"]) == (400, "too_deep")
    status, body = await _post(client, "/api/menus/skyrail-main/activate", b'{"version": [1]}', "application/json")
    assert (status, body["error"]) == (400, "bad_version")
    status, body = await _post(client, "/api/calls/nope/recording", b'{"action": ["pause"]}', "application/json")
    assert status == 400  # the body is checked against its schema before the call is looked up


async def test_a_good_body_still_works(client: TestClient[object, object]) -> None:
    status, body = await _post(client, "/api/agents/1001/state", b'{"action": "login"}', "application/json; charset=utf-8")
    assert (status, body["state"]) == (200, "available")


async def test_brackets_inside_strings_do_not_count_as_depth(client: TestClient[object, object]) -> None:
    body = b'{"active": true, "announcement": {"en": "' + b"[[[[{{{{" * 20 + b'"}}'
    status, got = await _post(client, "/api/emergency", body, "application/json")
    assert (status, got["announcement"]["en"]) == (200, "[[[[{{{{" * 20)


async def test_only_utf8_bodies_are_read(client: TestClient[object, object]) -> None:
    body = '{"action": "login"}'.encode("utf-16")
    status, got = await _post(client, "/api/agents/1001/state", body, "application/json; charset=utf-16")
    assert (status, got["error"]) == (415, "unsupported_charset")
