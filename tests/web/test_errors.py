"""Bad input under /api gets a JSON 4xx with a stable code, never a 500, and the server keeps
serving; unknown routes and wrong methods answer JSON too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.web.harness import WebRig


@pytest.fixture
async def admin(web_rig: WebRig) -> dict[str, str]:
    await web_rig.add_user("ada", "admin")
    return await web_rig.bearer("ada")


async def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and isinstance(body["details"], dict)
    return body


STATE = "/api/agents/1001/state"


@pytest.mark.parametrize(
    "body",
    [
        {"action": ["login"]},
        {"action": {"x": 1}},
        {"action": 7},
        {"action": None},
        {"action": "login", "reason": ["x"]},
        {"action": "pause", "reason": "x" * 65},
        {"action": "login", "extra": True},
        {},
    ],
)
async def test_wrong_types_are_400s(web_rig: WebRig, admin: dict[str, str], body: Any) -> None:
    response = await web_rig.client.post(STATE, json=body, headers=admin)
    details = await _error(response, 400, "bad_action")
    assert details["details"]["errors"]


@pytest.mark.parametrize("document", [b"[]", b'"login"', b"7", b"null"])
async def test_a_body_that_is_not_an_object_is_refused(web_rig: WebRig, admin: dict[str, str], document: bytes) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    response = await web_rig.client.post(STATE, data=document, headers=headers)
    await _error(response, 400, "bad_action")


async def test_unknown_charset_is_415(web_rig: WebRig, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json; charset=klingon"}
    response = await web_rig.client.post(STATE, data=b'{"action": "login"}', headers=headers)
    await _error(response, 415, "unsupported_charset")
    headers = {**admin, "Content-Type": "application/json; charset=latin-1"}
    response = await web_rig.client.post(STATE, data=b'{"action": "login"}', headers=headers)
    await _error(response, 415, "unsupported_charset")


async def test_not_json_is_refused(web_rig: WebRig, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    await _error(await web_rig.client.post(STATE, data=b"{not json", headers=headers), 400, "bad_json")
    await _error(await web_rig.client.post(STATE, data=b"\xff\xfe{}", headers=headers), 400, "bad_json")
    form = {**admin, "Content-Type": "text/plain"}
    await _error(await web_rig.client.post(STATE, data=b"{}", headers=form), 415, "unsupported_media_type")


async def test_deep_json_is_refused(web_rig: WebRig, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    await _error(await web_rig.client.post(STATE, data=deep, headers=headers), 400, "too_deep")
    nested = b'{"action": "login", "reason": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}"
    await _error(await web_rig.client.post(STATE, data=nested, headers=headers), 400, "too_deep")


async def test_too_large_bodies_are_413(web_rig: WebRig, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    big = b'{"action": "' + b"x" * 300_000 + b'"}'
    await _error(await web_rig.client.post(STATE, data=big, headers=headers), 413, "too_large")

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to look at
        yield b'{"action": "'
        for _ in range(40):
            yield b"x" * 10_000
        yield b'"}'

    await _error(await web_rig.client.post(STATE, data=chunks(), headers=headers), 413, "too_large")
    menu = await web_rig.client.post("/api/menus", data=b"a: [" + b"x" * 600_000, headers=admin)
    await _error(menu, 413, "too_large")


async def test_unknown_routes_and_wrong_methods_answer_json(web_rig: WebRig, admin: dict[str, str]) -> None:
    await _error(await web_rig.client.get("/api/nowhere", headers=admin), 404, "not_found")
    await _error(await web_rig.client.get("/api/nowhere"), 404, "not_found")
    body = await _error(await web_rig.client.put("/api/agents", headers=admin), 405, "method_not_allowed")
    assert body["details"]["allowed"] == ["GET"]
    await _error(await web_rig.client.delete("/api/live"), 405, "method_not_allowed")


async def test_bad_query_parameters_are_400(web_rig: WebRig, admin: dict[str, str]) -> None:
    await _error(await web_rig.client.get("/api/audit?limit=abc", headers=admin), 400, "invalid_query")
    await _error(await web_rig.client.get("/api/audit?limit=0", headers=admin), 400, "invalid_query")
    await _error(await web_rig.client.get("/api/audit?bogus=1", headers=admin), 400, "invalid_query")


async def test_auth_errors_are_json(web_rig: WebRig) -> None:
    await _error(await web_rig.client.get("/api/agents"), 401, "unauthorized")
    for header in ("Bearer nope", "Bearer hlt_abc_def", "Bearer ", "Basic YWRhOnB3"):
        response = await web_rig.client.get("/api/agents", headers={"Authorization": header})
        await _error(response, 401, "unauthorized")


async def test_the_server_keeps_serving_after_bad_input(web_rig: WebRig, admin: dict[str, str]) -> None:
    headers = {**admin, "Content-Type": "application/json; charset=nope"}
    for _ in range(3):
        await web_rig.client.post(STATE, data=b"[" * 50_000, headers=headers)
    assert (await web_rig.client.get("/health")).status == 200
    assert (await web_rig.client.get("/api/agents", headers=admin)).status == 200


@pytest.mark.parametrize(
    ("content_type", "data", "status"),
    [
        ("application/x-www-form-urlencoded; charset=klingon", b"login=a&csrf_token=x", 415),
        ("multipart/form-data; boundary=zz", b"garbage", 400),
        ("multipart/form-data", b"garbage", 400),
        ("application/x-www-form-urlencoded", b"\xff\xfe=\xff", 400),
    ],
)
@pytest.mark.parametrize("path", ["/login", "/setup", "/logout"])
async def test_garbage_forms_get_a_4xx_not_a_500(
    web_rig: WebRig, path: str, content_type: str, data: bytes, status: int
) -> None:
    response = await web_rig.client.post(path, data=data, headers={"Content-Type": content_type})
    assert response.status == status
    assert (await web_rig.client.get("/health")).status == 200
