"""The queue form of the admin page: fields read into the queue's configuration, keys the
form does not show kept, blanks back to the defaults; and in headless Chromium, a change
that the running ACD takes at once, a bad value refused naming its key."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from acd.queue import RoutingPolicy
from hotline.web.acd_admin.queue_form import form_values, queue_from_form
from tests.asterisk.fake_asterisk import FakeAsterisk
from tests.web.harness import Shot, WebRig
from tests.web.test_wallboard_browser import floor  # noqa: F401  (the fixture)

BOOKING = {"name": "booking", "skills": {"booking": 5}, "policy": "longest_idle",
           "service_level": {"target": 0.8, "seconds": 20}, "max_wait": 900, "overflow": "general",
           "ring_timeout": 20, "wrap_up": 15, "escalation": [{"after": 60, "min_level": 3}]}


def test_the_form_shows_the_queue_and_gives_it_back_unchanged() -> None:
    values = form_values(BOOKING)
    assert values["skills"] == "booking=5" and values["sl_target"] == "80" and values["wrap_up"] == "15"
    assert queue_from_form(BOOKING, "booking", values) == BOOKING


def test_fields_change_their_keys_blanks_remove_them_and_other_keys_stay() -> None:
    values = form_values(BOOKING) | {"policy": "best_skill", "sl_target": "90", "sl_seconds": "30",
                                     "max_wait": "", "overflow": "", "wrap_up_manual": "on",
                                     "skills": "booking=5, lang_en=3"}
    item = queue_from_form(BOOKING, "booking", values)
    assert item["policy"] == "best_skill" and item["skills"] == {"booking": 5, "lang_en": 3}
    assert item["service_level"] == {"target": 0.9, "seconds": 30}
    assert "max_wait" not in item and "overflow" not in item
    assert item["wrap_up"] is None  # until the agent is done
    assert item["escalation"] == BOOKING["escalation"]
    assert queue_from_form(BOOKING, "booking", values | {"sl_target": "abc"})["service_level"]["target"] == "abc"


async def test_an_admin_changes_the_booking_queue_in_the_form_and_the_acd_runs_it(
    floor: tuple[WebRig, FakeAsterisk], browser: Browser, shot: Shot  # noqa: F811
) -> None:
    rig, _ = floor
    await rig.add_user("ada", "admin")
    page = await rig.signed_in_page(browser, "ada")
    await page.goto(f"{rig.base_url}/admin/acd")
    await expect(page.get_by_test_id("queue-sl-target-booking")).to_have_value("80")
    await page.get_by_test_id("queue-sl-target-booking").fill("eighty")
    await page.get_by_test_id("save-queue-form-booking").click()
    await expect(page.get_by_test_id("problems")).to_contain_text("service_level.target")
    assert rig.acd.queues["booking"].sl_target == 0.8  # refused: the running queue is unchanged
    await shot(page, "queue-refused")

    await page.get_by_test_id("queue-sl-target-booking").fill("90")
    await page.get_by_test_id("queue-sl-seconds-booking").fill("15")
    await page.get_by_test_id("queue-policy-booking").select_option("best_skill")
    await page.get_by_test_id("queue-max-wait-booking").fill("600")
    await page.get_by_test_id("save-queue-form-booking").click()
    await expect(page.get_by_test_id("history-queue-booking")).to_have_text("v2")
    queue = rig.acd.queues["booking"]
    assert (queue.sl_target, queue.sl_seconds, queue.policy, queue.max_wait) == (
        0.9, 15, RoutingPolicy.BEST_SKILL, 600)
    assert queue.escalation  # the keys the form does not show are kept
    await expect(page.get_by_test_id("queue-sl-target-booking")).to_have_value("90")
    await shot(page, "queue-saved")
    audit = await rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "queue.save" and audit[0].target == "queue:booking"
