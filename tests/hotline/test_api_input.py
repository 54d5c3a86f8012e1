"""Bad request bodies get JSON 4xx, never a plain-text 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.clock import VirtualClock
from casestore.store import open_store
from hotline.config import load_config
from hotline.http_input import InputError, json_depth, parse_json_object
from hotline.wiring import build_app

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
ADMIN = {"Authorization": "Bearer change-me-admin"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[object, object]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    app = build_app(
        load_config(CONFIG), clock=VirtualClock(1_800_000_000.0), store_url=url, speech=False,
        asterisk=False,
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _post(client: TestClient[object, object], path: str, body: bytes, content_type: str) -> tuple[int, dict[str, object]]:
    response = await client.post(path, data=body, headers={**ADMIN, "Content-Type": content_type})
    assert response.content_type == "application/json"
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b'{"action": ["login"]}', "application/json", 400, "bad_action"),
        (b'{"action": {"a": 1}}', "application/json", 400, "bad_action"),
        (b'{"action": "pause", "reason": {"x": 1}}', "application/json", 400, "bad_reason"),
        (b'{"action": "login"}', "application/json; charset=no-such-charset", 415, "unsupported_charset"),
        (b'{"action": "login"}', "application/json; charset=rot13", 415, "unsupported_charset"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413, "too_large"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "application/json", 400, "too_deep"),
        (b'{"action": NaN}', "application/json", 400, "bad_json"),
        (b'{"n": ' + b"1" * 5000 + b"}", "application/json", 400, "bad_json"),
        (b"\xff\xfe", "application/json", 400, "bad_encoding"),
        (b"[1]", "application/json", 400, "bad_json"),
    ],
)
async def test_bad_bodies_get_json_4xx(
    client: TestClient[object, object], body: bytes, content_type: str, status: int, error: str
) -> None:
    got_status, got = await _post(client, "/api/agents/1001/state", body, content_type)
    assert (got_status, got["error"]) == (status, error)


async def test_other_handlers_share_the_reader(client: TestClient[object, object]) -> None:
    status, body = await _post(client, "/api/emergency", b'{"active": ' * 50 + b"}", "application/json")
    assert (status, body["error"]) == (400, "too_deep")
    status, body = await _post(client, "/api/menus/skyrail-main/activate", b'{"version": [1]}', "application/json")
    assert (status, body["error"]) == (400, "bad_version")
    status, body = await _post(client, "/api/calls/nope/recording", b'{"action": ["pause"]}', "application/json")
    assert status == 404  # the call is looked up first


async def test_a_good_body_still_works(client: TestClient[object, object]) -> None:
    status, body = await _post(client, "/api/agents/1001/state", b'{"action": "login"}', "application/json; charset=utf-8")
    assert (status, body["state"]) == (200, "available")


def test_depth_skips_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth(b'"\\"[[["') == 0


def test_utf16_body_with_its_charset_is_read() -> None:
    assert parse_json_object('{"action": "login"}'.encode("utf-16"), "utf-16") == {"action": "login"}
    with pytest.raises(InputError):
        parse_json_object(b"[" * 40 + b"]" * 40)
