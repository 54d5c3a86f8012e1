"""Accounts API per role: allowed, denied, and what each role sees; the audit log records
every change with who, what, before and after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.harness import PASSWORD, WebRig


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim")}


ADMIN_ONLY = [
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"login": "lee", "name": "Lee", "role": "supervisor", "password": PASSWORD}),
    ("PATCH", "/api/users/kim", {"name": "Kim M."}),
    ("GET", "/api/audit", None),
    ("POST", "/api/menus/reload", None),
]
STAFF_ONLY = [("GET", "/api/agents", None), ("GET", "/api/menus", None), ("POST", "/api/emergency", {"active": False})]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
async def test_admin_only_endpoints(
    web_rig: WebRig, people: dict[str, dict[str, str]], method: str, path: str, body: Any
) -> None:
    for login in ("sue", "kim"):
        response = await web_rig.client.request(method, path, json=body, headers=people[login])
        assert response.status == 403, (login, await response.text())
        assert (await response.json())["details"]["allowed"] == ["admin"]
    response = await web_rig.client.request(method, path, json=body, headers=people["ada"])
    assert response.status in (200, 201), await response.text()


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ONLY)
async def test_staff_endpoints(
    web_rig: WebRig, people: dict[str, dict[str, str]], method: str, path: str, body: Any
) -> None:
    response = await web_rig.client.request(method, path, json=body, headers=people["kim"])
    assert response.status == 403
    for login in ("ada", "sue"):
        response = await web_rig.client.request(method, path, json=body, headers=people[login])
        assert response.status == 200, (login, await response.text())


async def test_agents_see_only_themselves(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    kim = people["kim"]
    assert (await web_rig.client.get("/api/agents/1001", headers=kim)).status == 200
    assert (await web_rig.client.get("/api/agents/1002", headers=kim)).status == 403
    assert (await web_rig.client.post("/api/agents/1002/disposition", json={"code": "x"}, headers=kim)).status == 403
    me = await (await web_rig.client.get("/api/session", headers=kim)).json()
    assert (me["user"]["login"], me["user"]["role"], me["user"]["agent_id"]) == ("kim", "agent", "1001")


async def test_live_view_masks_callers_by_role(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    web_rig.acd.login("1002")
    web_rig.acd.arrive("c1", "booking", caller="+821012345678")
    seen = {
        login: (await (await web_rig.client.get("/api/live", headers=people[login])).json())["calls"][0]["caller"]
        for login in people
    }
    assert seen == {"ada": "+821012345678", "sue": "+82******5678", "kim": "+82******5678"}


async def test_tokens_are_personal_and_revocable(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c = web_rig.client
    created = await (await c.post("/api/tokens", json={"name": "script", "days": 2}, headers=people["kim"])).json()
    mine = {"Authorization": f"Bearer {created['token']}"}
    assert (await c.get("/api/agents/1001", headers=mine)).status == 200
    listed = await (await c.get("/api/tokens", headers=people["kim"])).json()
    assert {t["user_id"] for t in listed["tokens"]} == {created["info"]["user_id"]}
    assert "token" not in str(listed["tokens"][0].keys() - {"id"})  # secrets are never listed again
    # others cannot revoke it; admins and the owner can
    assert (await c.delete(f"/api/tokens/{created['info']['id']}", headers=people["sue"])).status == 404
    assert (await c.post("/api/tokens", json={"name": "x", "login": "sue"}, headers=people["kim"])).status == 403
    revoked = await c.delete(f"/api/tokens/{created['info']['id']}", headers=people["kim"])
    assert (await revoked.json())["revoked_at"] is not None
    assert (await c.get("/api/agents/1001", headers=mine)).status == 401
    # expiry
    other = await (await c.post("/api/tokens", json={"name": "short", "days": 1}, headers=people["kim"])).json()
    headers = {"Authorization": f"Bearer {other['token']}"}
    assert (await c.get("/api/agents/1001", headers=headers)).status == 200
    web_rig.clock.advance(86_401)
    assert (await c.get("/api/agents/1001", headers=headers)).status == 401
    too_long = await c.post("/api/tokens", json={"name": "forever", "days": 3000}, headers=people["kim"])
    assert (too_long.status, (await too_long.json())["error"]) == (400, "bad_expiry")


async def test_a_disabled_person_is_locked_out(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c = web_rig.client
    response = await c.patch("/api/users/kim", json={"disabled": True}, headers=people["ada"])
    assert (await response.json())["disabled"] is True
    assert (await c.get("/api/agents/1001", headers=people["kim"])).status == 401
    # the last admin cannot be disabled
    response = await c.patch("/api/users/ada", json={"disabled": True}, headers=people["ada"])
    assert (response.status, (await response.json())["error"]) == (400, "invalid_input")


async def test_own_password_change_needs_the_current_one(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c = web_rig.client
    url = "/api/users/kim/password"
    wrong = await c.post(url, json={"password": "a brand new secret", "current_password": "nope"}, headers=people["kim"])
    assert wrong.status == 401
    ok = await c.post(url, json={"password": "a brand new secret", "current_password": PASSWORD}, headers=people["kim"])
    assert ok.status == 200
    assert (await c.post("/api/users/sue/password", json={"password": "a brand new secret"}, headers=people["kim"])).status == 403
    weak = await c.post("/api/users/sue/password", json={"password": "short"}, headers=people["ada"])
    assert (weak.status, (await weak.json())["error"]) == (400, "weak_password")


async def test_every_change_is_audited(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c = web_rig.client
    await c.post("/api/agents/1001/state", json={"action": "login"}, headers=people["kim"])
    await c.post("/api/agents/1001/state", json={"action": "pause", "reason": "break"}, headers=people["kim"])
    await c.patch("/api/users/sue", json={"name": "Sue Park"}, headers=people["ada"])
    await c.post("/api/emergency", json={"active": True, "announcement": {"en": "Storm"}}, headers=people["sue"])
    await c.post("/api/users/kim/password", json={"password": "another fine secret"}, headers=people["ada"])
    entries = (await (await c.get("/api/audit", headers=people["ada"])).json())["entries"]
    by_action = {e["action"]: e for e in entries}
    pause = by_action["agent.pause"]
    assert (pause["actor"], pause["target"]) == ("kim", "agent:1001")
    assert pause["before"] == {"state": "available", "pause_reason": ""}
    assert pause["after"] == {"state": "paused", "pause_reason": "break"}
    rename = by_action["user.update"]
    assert (rename["actor"], rename["before"], rename["after"]) == ("ada", {"name": "Sue"}, {"name": "Sue Park"})
    assert by_action["emergency.set"]["after"]["active"] is True
    assert by_action["user.password"]["after"] == {"password": "changed"}
    assert "another fine secret" not in str(entries)
    filtered = (await (await c.get("/api/audit?actor=kim", headers=people["ada"])).json())["entries"]
    assert {e["actor"] for e in filtered} == {"kim"}
    first_page = (await (await c.get("/api/audit?limit=2", headers=people["ada"])).json())["entries"]
    rest = (await (await c.get(f"/api/audit?before_id={first_page[-1]['id']}", headers=people["ada"])).json())["entries"]
    assert len(first_page) == 2 and all(e["id"] < first_page[-1]["id"] for e in rest)


async def test_the_setup_link_closes_once_an_admin_exists_another_way(web_rig: WebRig) -> None:
    token = web_rig.links[0].split("token=")[1]
    await web_rig.add_user("ada", "admin")  # e.g. `hotline users add` while the server runs
    csrf = {"X-CSRF-Token": await web_rig.csrf()}
    body = {"token": token, "login": "eve", "name": "Eve", "password": PASSWORD}
    response = await web_rig.client.post("/api/setup", json=body, headers=csrf)
    assert (response.status, (await response.json())["error"]) == (403, "setup_closed")
    assert await web_rig.store.accounts.user("eve") is None
    assert (await web_rig.client.get(f"/setup?token={token}")).status == 403


async def test_every_endpoint_refuses_the_anonymous_and_the_roles_it_does_not_name(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    """Generic over the registry: a route added by any feature folder is checked too."""
    from hotline.web.base.keys import WEB_KEY

    by_role = {"admin": people["ada"], "supervisor": people["sue"], "agent": people["kim"]}
    checked = 0
    for endpoint in web_rig.app[WEB_KEY].api.endpoints:
        if endpoint.public:
            continue
        path = endpoint.path
        for param in endpoint.path_params:
            path = path.replace("{" + param + "}", "x")
        anonymous = await web_rig.client.request(endpoint.method, path, json={})
        if endpoint.method == "GET":
            assert anonymous.status == 401, (endpoint.method, endpoint.path)
        else:  # no bearer and no session: the CSRF check comes first, also a refusal
            assert anonymous.status in (401, 403), (endpoint.method, endpoint.path)
        for role, headers in by_role.items():
            if role in endpoint.roles:
                continue
            denied = await web_rig.client.request(endpoint.method, path, json={}, headers=headers)
            assert denied.status == 403, (role, endpoint.method, endpoint.path)
            assert (await denied.json())["error"] == "forbidden"
            checked += 1
    assert checked >= 10


async def test_an_agent_user_is_bound_to_an_agent_the_acd_has(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    body = {"login": "lee", "name": "Lee", "role": "agent", "agent_id": "9999", "password": PASSWORD}
    response = await web_rig.client.post("/api/users", json=body, headers=people["ada"])
    assert (response.status, (await response.json())["error"]) == (400, "unknown_agent")
    response = await web_rig.client.patch("/api/users/kim", json={"agent_id": "9999"}, headers=people["ada"])
    assert (response.status, (await response.json())["error"]) == (400, "unknown_agent")
