"""In headless Chromium, on the whole server with the fake Asterisk: an agent goes ready, a
call walks the IVR (a booking number by DTMF over FastAGI), rings, the screen pop shows the
number, the agent talks, wraps up with a disposition and saves the call's case; a
supervisor finds it unassigned, assigns it, hears the recording and resolves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page, expect

from acd.clock import AsyncioClock
from asterisk.service import ASTERISK_KEY
from casestore.store import open_store
from hotline.web.base.keys import STORE_KEY
from hotline.wiring import build_app
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.web.harness import Shot, WebRig, sample_config

MENU = Path(__file__).resolve().parents[2] / "asterisk" / "menu.yaml"
CALLER = "+821012345678"


@pytest.fixture
async def phone_rig(tmp_path: Path) -> AsyncIterator[tuple[WebRig, FakeAsterisk]]:
    monitor = tmp_path / "monitor"
    fake = FakeAsterisk(recordings_dir=monitor)
    await fake.start()
    fake.devices.update({"PJSIP/1001": "NOT_INUSE", "PJSIP/1002": "NOT_INUSE"})
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    config = sample_config(
        asterisk={
            "ami": {"host": "127.0.0.1", "port": fake.port, "username": "hotline", "secret": "secret"},
            "fastagi": {"host": "127.0.0.1", "port": 0}, "hotline_numbers": ["1588"],
            "recordings_dir": str(monitor), "speech_dir": str(tmp_path / "speech"), "menu": "asterisk-test",
        },
        ivr={"menus": [str(MENU)], "default_menu": "asterisk-test", "numbers": {"1588": "asterisk-test"}},
        store={"url": url, "data_dir": str(tmp_path / "data"), "flush_interval": 0.05},
    )
    links: list[str] = []
    clock = AsyncioClock()
    app = build_app(config, clock=clock, store_url=url, speech=False, asterisk=True, announce=links.append)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            await app[ASTERISK_KEY].ami.wait_ready(5)
            yield WebRig(app, client, clock, links), fake  # type: ignore[arg-type]
    finally:
        await fake.close()


async def _state(page: Page, state: str) -> None:
    await expect(page.locator(f"[data-testid=desk-state][data-state={state}]")).to_be_visible(timeout=10_000)


async def _type(page: Page, selector: str, text: str) -> None:
    """Fill a field of the live panel: a refresh that lands while Playwright fills replaces the
    element it filled (a person's next keystroke goes to the re-rendered one); fill again."""
    for _ in range(5):
        await page.fill(selector, text)
        try:
            await expect(page.locator(selector)).to_have_value(text, timeout=1_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{selector} did not keep {text!r}")


async def test_a_call_from_the_ivr_to_a_resolved_case(
    phone_rig: tuple[WebRig, FakeAsterisk], browser: Browser, shot: Shot,
) -> None:
    rig, fake = phone_rig
    service = rig.app[ASTERISK_KEY]
    await rig.store.cases.upsert_customer(CALLER, name="Kim Minjun", tier="gold", language="en")
    await rig.add_user("kim", "agent", agent_id="1001")
    await rig.add_user("sue", "supervisor")

    agent = await rig.signed_in_page(browser, "kim")
    await agent.goto(f"{rig.base_url}/desktop")
    await _state(agent, "logged_out")
    await agent.click("[data-testid=ready]")
    await _state(agent, "available")
    await shot(agent, "desktop-ready")

    result = await fake.agi_call(service.agi.port, CallerScript(number=CALLER, keys=["1", "4", "2", "4", "2"]))
    call_id = result.channel.uniqueid
    await fake.wait_action("Redirect")
    await _state(agent, "ringing")  # pushed over the event stream, no reload
    pop = agent.locator("[data-testid=screen-pop]")
    await expect(pop.locator("dd[data-node=booking_ref]")).to_have_text("4242", timeout=10_000)
    await expect(pop).to_contain_text("Kim Minjun")  # the agent's own caller, in the clear
    await expect(agent.locator("[data-testid=customer-tier]")).to_have_text("gold")
    await expect(agent.locator("[data-testid=caller]")).to_have_text(CALLER)
    await shot(agent, "desktop-ringing")

    fake.answer(call_id)
    await _state(agent, "on_call")
    await expect(agent.locator("[data-testid=call-timer]")).to_have_text("00:00", timeout=5_000)
    await expect(agent.locator("[data-testid=sla-countdown]")).not_to_be_empty()
    await agent.select_option("[data-testid=case-form] select[name=category]", "ticketing")
    await agent.fill("[data-testid=case-subject]", "Rebook booking 4242 to tomorrow")
    async with agent.expect_navigation():  # saved through the API, then the page reloads
        await agent.click("[data-testid=case-save]")
    await expect(agent.locator("[data-testid=case-subject]")).to_have_value("Rebook booking 4242 to tomorrow")
    await shot(agent, "desktop-on-call")

    fake.hangup(call_id)
    await _state(agent, "wrap_up")
    await agent.select_option("[data-testid=disposition]", "resolved")
    await _type(agent, "[data-testid=wrap-note]", "Rebooked on the morning flight")
    await shot(agent, "desktop-wrap-up")
    async with agent.expect_response("**/api/desktop/wrapup") as answer:
        await agent.click("[data-testid=wrap-save]")
    sent = (await answer.value).request.post_data_json
    assert (await answer.value).status == 200, await (await answer.value).text()
    assert sent == {"disposition": "resolved", "note": "Rebooked on the morning flight", "done": True}
    await _state(agent, "available")
    await service.drain()
    await rig.app[STORE_KEY].writer_instance.drain()

    case = await rig.store.casework.case_of_call(call_id)
    assert case is not None and case.category == "ticketing" and case.assigned_agent is None

    sup = await rig.signed_in_page(browser, "sue")
    await sup.goto(f"{rig.base_url}/cases/attention")
    await expect(sup.locator(f"[data-testid=unassigned] tr[data-number='{case.number}']")).to_be_visible()
    await shot(sup, "attention")
    await sup.goto(f"{rig.base_url}/cases?q=rebook")
    await expect(sup.locator(f"[data-testid=cases] tr[data-number='{case.number}']")).to_contain_text("+82******5678")
    await shot(sup, "cases")
    await sup.click(f"a[href='/cases/{case.number}']")
    await expect(sup.locator("[data-testid=note]")).to_have_text("Rebooked on the morning flight")
    await expect(sup.locator("[data-testid=recording]")).to_have_count(1)
    await sup.select_option("[data-testid=assign-agent]", "1002")
    await sup.click("[data-testid=assign]")
    await expect(sup.locator("[data-testid=assignee]")).to_have_text("1002")
    await sup.select_option("[data-testid=status-select]", "resolved")
    await sup.select_option("[data-testid=resolution-code]", "rebooked")
    await sup.click("[data-testid=status-save]")
    await expect(sup.locator("[data-testid=case][data-status=resolved]")).to_be_visible()
    await expect(sup.locator("[data-testid=resolution]")).to_have_text("rebooked")
    await shot(sup, "case-resolved")
    audio = await sup.request.get(f"{rig.base_url}/api/recordings/1/audio")
    assert audio.status == 200 and (await audio.body())[:4] == b"RIFF"
    refused = await agent.request.get(f"{rig.base_url}/api/recordings/1/audio")
    assert refused.status == 403

    await sup.goto(f"{rig.base_url}/calls?queue=booking")
    await expect(sup.locator(f"[data-testid=calls] tr[data-call='{call_id}']")).to_contain_text("resolved")
    await shot(sup, "calls")
    await sup.click(f"a[href='/calls/{call_id}']")
    await expect(sup.locator("[data-testid=ivr-path]")).to_contain_text("booking_ref")
    await shot(sup, "call")
    resolved = await rig.store.casework.timeline(case.number)
    assert (resolved.case.status, resolved.case.resolution_code, resolved.case.assigned_agent) == (
        "resolved", "rebooked", "1002",
    )
