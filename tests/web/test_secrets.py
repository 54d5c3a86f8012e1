"""Passwords never appear in logs or API output: not on sign-in (right or wrong), not when
people are added or their password changes, not in the audit log."""

from __future__ import annotations

import json
import logging

import pytest

from tests.web.harness import PASSWORD, WebRig

NEW_PASSWORD = "Zebra-Quartz-Umbrella-42"
TYPED_AS_LOGIN = "Mistyped-Secret-Into-Login-99"


async def test_passwords_stay_out_of_logs_and_answers(web_rig: WebRig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # as `hotline serve` logs (libraries' debug output is off)
    caplog.set_level(logging.DEBUG, logger="hotline")
    c = web_rig.client
    token = web_rig.links[0].split("token=")[1]
    csrf = {"X-CSRF-Token": await web_rig.csrf()}
    answers: list[str] = []

    async def keep(response: object) -> None:
        answers.append(await response.text())  # type: ignore[attr-defined]
        web_rig.forget_session()

    await keep(await c.post("/api/setup", json={"token": token, "login": "ada", "name": "Ada", "password": PASSWORD}, headers=csrf))
    admin = await web_rig.bearer("ada")
    await keep(await c.post("/api/users", json={"login": "kim", "name": "Kim", "role": "agent", "agent_id": "1001", "password": NEW_PASSWORD}, headers=admin))
    await keep(await c.post("/api/users", json={"login": "kim2", "name": "Kim", "role": "agent", "agent_id": "1002", "password": "short"}, headers=admin))
    await keep(await c.post("/api/users/kim/password", json={"password": NEW_PASSWORD + "x"}, headers=admin))
    await keep(await c.post("/api/session", json={"login": "kim", "password": NEW_PASSWORD}, headers=csrf))
    await keep(await c.post("/api/session", json={"login": TYPED_AS_LOGIN, "password": NEW_PASSWORD}, headers=csrf))
    await keep(await c.post("/api/session", json={"login": "kim", "password": NEW_PASSWORD + "x"}, headers=csrf))
    await keep(await c.post("/login", data={"login": "kim", "password": NEW_PASSWORD + "x", "csrf_token": csrf["X-CSRF-Token"]}))
    await keep(await c.post("/login", data={"login": "kim", "password": NEW_PASSWORD, "csrf_token": csrf["X-CSRF-Token"]}))
    await keep(await c.get("/api/users", headers=admin))
    await keep(await c.get("/api/audit", headers=admin))
    audit = json.loads(answers[-1])["entries"]
    assert {"user.add", "user.password"} <= {e["action"] for e in audit}

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "sign-in refused" in logged and "signed in" in logged  # the logging did happen
    for secret in (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "short", TYPED_AS_LOGIN):
        assert secret not in logged
        for answer in answers:
            assert secret not in answer
    assert "argon2" not in "\n".join(answers)  # nor any hash
