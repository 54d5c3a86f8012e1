"""Case-work pages per role, and the `desk` config section."""

from __future__ import annotations

import pytest

from hotline.config import ConfigError
from hotline.web.cases.settings import DEFAULTS, parse_desk_section
from tests.web.harness import WebRig


def test_desk_section_defaults_and_errors_name_the_key() -> None:
    assert parse_desk_section({}, "hotline.yaml: desk").pause_reasons == DEFAULTS["pause_reasons"]
    assert parse_desk_section({"dispositions": ["sold"]}, "x").dispositions == ("sold",)
    with pytest.raises(ConfigError, match=r"hotline.yaml: desk.pause_reasons"):
        parse_desk_section({"pause_reasons": []}, "hotline.yaml: desk")
    with pytest.raises(ConfigError, match=r"unknown keys \['colour'\]"):
        parse_desk_section({"colour": "red"}, "hotline.yaml: desk")


async def test_pages_by_role(web_rig: WebRig) -> None:
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    c = web_rig.client
    await web_rig.api_sign_in("kim")
    assert (await c.get("/desktop")).status == 200
    assert (await c.get("/cases")).status == 200
    assert (await c.get("/calls")).status == 200
    assert (await c.get("/cases/attention")).status == 403
    assert (await c.get("/desk.js")).content_type == "text/javascript"
    web_rig.forget_session()
    await web_rig.api_sign_in("sue")
    assert (await c.get("/desktop")).status == 403
    assert (await c.get("/cases/attention")).status == 200
    assert (await c.get("/cases?status=open&overdue=true&q=x")).status == 200
    assert (await c.get("/calls?since=2027-01-01&until=2027-01-02&queue=booking")).status == 200
    assert (await c.get("/cases/HL-1999-000001")).status == 404
    web_rig.forget_session()
    response = await c.get("/desktop", allow_redirects=False)
    assert response.status in (302, 303) and response.headers["Location"].startswith("/login")
