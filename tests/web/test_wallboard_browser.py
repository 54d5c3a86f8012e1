"""The wallboard in headless Chromium while calls flow through the fake Asterisk: a call
appears as waiting, an agent takes it, and today's service level moves; a supervisor forces a
pause. Screenshots in artifacts/screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, expect

from asterisk.service import ASTERISK_KEY
from casestore.store import open_store
from hotline.config import parse_config
from hotline.web.base.keys import ACD_KEY
from hotline.wiring import build_app
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.web.harness import CONFIG, Shot, WebRig

TEST_MENU = Path(__file__).resolve().parents[1] / "asterisk" / "menu.yaml"


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[tuple[WebRig, FakeAsterisk]]:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({"PJSIP/1001": "NOT_INUSE"})
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    raw["ivr"] = {**raw.get("ivr", {}), "menus": [str(TEST_MENU)], "default_menu": "asterisk-test", "numbers": {}}
    raw["asterisk"] = {
        "ami": {"host": "127.0.0.1", "port": fake.port, "username": "hotline", "secret": "secret",
                "backoff_initial": 0.01, "backoff_max": 0.05},
        "fastagi": {"host": "127.0.0.1", "port": 0},
        "recordings_dir": str(tmp_path / "monitor"), "menu": "asterisk-test", "hotline_numbers": ["1588"],
    }
    config = parse_config(raw, CONFIG)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    app = build_app(config, store_url=url, speech=False, announce=lambda link: None)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            await app[ASTERISK_KEY].ami.wait_ready(5)
            yield WebRig(app, client, app[ACD_KEY].clock), fake  # type: ignore[arg-type]
    finally:
        await fake.close()


async def test_a_call_through_asterisk_appears_and_moves_the_service_level(
    floor: tuple[WebRig, FakeAsterisk], browser: Browser, shot: Shot
) -> None:
    rig, fake = floor
    await rig.add_user("sue", "supervisor")
    page = await rig.signed_in_page(browser, "sue")
    await page.goto(f"{rig.base_url}/wallboard")
    await expect(page.get_by_test_id("waiting-booking")).to_have_text("0")
    await expect(page.get_by_test_id("sl-booking")).to_contain_text("–")
    await page.wait_for_function("() => document.body.hasAttribute('sse-connect')")

    service = rig.app[ASTERISK_KEY]
    result = await fake.agi_call(service.agi.port, CallerScript(keys=["1", "4", "2", "4", "2"]))
    call_id = result.channel.uniqueid
    await expect(page.get_by_test_id("waiting-booking")).to_have_text("1")  # pushed, not polled
    await expect(page.get_by_test_id(f"call-{call_id}")).to_be_visible()
    await expect(page.get_by_test_id("sl-booking")).to_contain_text("0%")  # offered, not yet answered
    await shot(page, "waiting")

    rig.acd.login("1001")  # the call rings at 1001, who answers, talks, hangs up
    await fake.wait_action("Redirect")
    await expect(page.get_by_test_id("agent-state-1001")).to_have_text("ringing")
    fake.answer(call_id)
    await expect(page.get_by_test_id("agent-call-1001")).to_contain_text(call_id)
    fake.hangup(call_id)
    await expect(page.get_by_test_id("sl-booking")).to_contain_text("100%")
    await expect(page.get_by_test_id("answered-booking")).to_have_text("1 / 1")
    await expect(page.get_by_test_id("agent-today-1001")).to_have_text("1")
    await expect(page.get_by_test_id("volume-chart")).to_have_attribute("data-bars", "1")
    await shot(page, "answered")

    await page.get_by_test_id("force-pause-1001").click()  # in wrap-up: paused at once
    await expect(page.get_by_test_id("agent-state-1001")).to_have_text("paused")
    audit = await rig.store.accounts.audit(limit=1, actor="sue")
    assert audit[0].action == "wallboard.force_pause" and audit[0].target == "agent:1001"
    await shot(page, "paused")
