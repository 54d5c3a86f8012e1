"""Session cookies: flags, only a hash stored, idle timeout and maximum age on the virtual
clock, sign-out, CSRF by session token, a password change ending other sessions."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from casestore.models import WEB_SESSIONS
from tests.web.harness import PASSWORD, WebRig, sample_config, start_rig


def _set_cookie(response: object, name: str) -> str:
    headers = response.headers.getall("Set-Cookie", [])  # type: ignore[attr-defined]
    return next(h for h in headers if h.startswith(f"{name}="))


async def test_session_cookie_flags_and_stored_hash(web_rig: WebRig) -> None:
    await web_rig.add_user("sue", "supervisor")
    csrf = await web_rig.csrf()
    response = await web_rig.client.post(
        "/api/session", json={"login": "sue", "password": PASSWORD}, headers={"X-CSRF-Token": csrf}
    )
    header = _set_cookie(response, "hotline_session")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header  # plain HTTP here
    cookie = header.split(";")[0].split("=", 1)[1]
    async with web_rig.store.engine.connect() as conn:
        stored = (await conn.execute(select(WEB_SESSIONS.c.id_hash))).scalars().all()
    assert stored == [hashlib.sha256(cookie.encode()).hexdigest()]


async def test_secure_and_strict_cookies_when_configured(tmp_path: Path) -> None:
    config = sample_config(web={"cookie_secure": True, "same_site": "Strict"})
    async for rig in start_rig(tmp_path, config):
        await rig.add_user("sue", "supervisor")
        page = await rig.client.get("/login")
        csrf_header = _set_cookie(page, "hotline_csrf")
        assert "Secure" in csrf_header
        csrf = csrf_header.split(";")[0].split("=", 1)[1]
        response = await rig.client.post(  # a browser would only send it over HTTPS
            "/api/session", json={"login": "sue", "password": PASSWORD},
            headers={"X-CSRF-Token": csrf, "Cookie": f"hotline_csrf={csrf}"},
        )
        header = _set_cookie(response, "hotline_session")
        assert "Secure" in header and "SameSite=Strict" in header


async def test_session_lifetime_on_the_clock(web_rig: WebRig) -> None:
    await web_rig.add_user("sue", "supervisor")
    await web_rig.api_sign_in("sue")
    for _ in range(30):  # active every 25 minutes: the idle timeout (30 min) never hits ...
        web_rig.clock.advance(1500)
        if (await web_rig.client.get("/api/session")).status != 200:
            break
    else:
        raise AssertionError("the session outlived its maximum age")
    # ... but the maximum age (12 h) does
    assert 12 * 3600 <= 1500 * (_ + 1) < 12 * 3600 + 1500


async def test_changes_need_the_session_csrf_token_and_sign_out_ends_it(web_rig: WebRig) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    session = await web_rig.api_sign_in("kim")
    c = web_rig.client
    body = {"action": "login"}
    refused = await c.post("/api/agents/1001/state", json=body)
    assert (refused.status, (await refused.json())["error"]) == (403, "csrf_failed")
    anon = await c.post("/api/agents/1001/state", json=body, headers={"X-CSRF-Token": await web_rig.csrf()})
    assert anon.status == 403  # the pre-session token is not the session's
    assert (await c.post("/api/agents/1001/state", json=body, headers=session)).status == 200
    assert (await c.delete("/api/session", headers=session)).status == 200
    assert (await c.get("/api/session")).status == 401


async def test_a_new_password_ends_the_other_sessions(web_rig: WebRig) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    await web_rig.add_user("ada", "admin")
    await web_rig.api_sign_in("kim")
    admin = await web_rig.bearer("ada")
    await web_rig.client.post("/api/users/kim/password", json={"password": "a fresh long secret"}, headers=admin)
    assert (await web_rig.client.get("/api/session")).status == 401


async def test_api_sign_in_is_throttled_with_retry_after(web_rig: WebRig) -> None:
    await web_rig.add_user("sue", "supervisor")
    csrf = {"X-CSRF-Token": await web_rig.csrf()}
    for _ in range(5):
        wrong = await web_rig.client.post("/api/session", json={"login": "sue", "password": "nope"}, headers=csrf)
        assert (wrong.status, (await wrong.json())["error"]) == (401, "bad_credentials")
    locked = await web_rig.client.post("/api/session", json={"login": "sue", "password": PASSWORD}, headers=csrf)
    assert (locked.status, (await locked.json())["error"]) == (429, "too_many_attempts")
    assert 0 < int(locked.headers["Retry-After"]) <= 301
    web_rig.clock.advance(301)
    ok = await web_rig.client.post("/api/session", json={"login": "sue", "password": PASSWORD}, headers=csrf)
    assert ok.status == 200


async def test_pages_carry_security_headers(web_rig: WebRig) -> None:
    response = await web_rig.client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    api = await web_rig.client.get("/api/openapi.json")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
