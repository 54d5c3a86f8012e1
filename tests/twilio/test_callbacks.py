"""Fair callbacks on Twilio (twilio_gateway/callback.py, the core's acd/callbacks.py): business
hours, arrival order, merging, slots and outcomes, over the real server; every REST request
Twilio would receive is asserted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from zoneinfo import ZoneInfo

from acd.call import CallState
from acd.callbacks import BusinessHours, CallbackPolicy, Outcome
from acd.clock import VirtualClock
from acd.events import CallArrived, CallbackDropped, CallEnded, Event
from acd.snapshot import restore, take
from twilio_gateway.callback import CALLBACK_SOURCE, FAILED

from .conftest import Harness
from .fakes import ACCOUNT, PUBLIC, ApiRequest, call_sid

Make = Callable[..., AbstractAsyncContextManager[Harness]]
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls"
SEOUL = ZoneInfo("Asia/Seoul")
HOURS = BusinessHours.parse({"mon": "09:00-18:00", "tue": "09:00-18:00"}, "Asia/Seoul")


def at(day: int, hour: int, minute: int = 0) -> float:
    """2026-12-<day> (the 7th is a Monday) in Seoul, as epoch seconds."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SEOUL).timestamp()


def form(sid: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, "ApiVersion": "2010-04-01", **extra}


def with_hours(h: Harness) -> None:
    h.acd.queues["general"] = dataclasses.replace(h.acd.queues["general"], callbacks=CallbackPolicy(HOURS))


async def ask_callback(h: Harness, sid: str, number: str) -> list[str]:
    """A caller from `number` takes the IVR's callback (9, then 1 to accept) and hangs up."""
    await h.poster.twiml("/twilio/voice", form(sid, From=number, To="+8215990000", CallStatus="ringing",
                                               Direction="inbound"))
    await h.poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="9"))
    bye = ET.fromstring(await h.poster.twiml(f"/twilio/gather?call={sid}&step=2", form(sid, Digits="1")))
    await h.poster.post("/twilio/status", form(sid, CallStatus="completed"))
    return [e.tag for e in bye]


def customer_dial(create: ApiRequest) -> tuple[str | None, str | None]:
    """The number an agent leg's TwiML dials, and where the <Dial> reports how it ended."""
    root = ET.fromstring(str(create.data["Twiml"]))
    dial, number = root.find("Dial"), root.find("Dial/Number")
    assert dial is not None and number is not None
    return number.text, dial.get("action")


async def dial_ended(h: Harness, sid: str, leg: str, status: str) -> ET.Element:
    return ET.fromstring(await h.poster.twiml(f"/twilio/callback-dial?call={sid}",
                                              form(leg, DialCallStatus=status, CallStatus="in-progress")))


async def test_after_hours_callbacks_are_dialled_at_the_opening_in_order_merged_with_outcomes(harness: Make) -> None:
    async with harness(clock=VirtualClock(at(7, 19))) as h:
        with_hours(h)
        events: list[Event] = []
        h.acd.subscribe(events.append)
        first, second, again = call_sid(60), call_sid(61), call_sid(62)
        assert await ask_callback(h, first, "+821011110001") == ["Say", "Hangup"]
        h.clock.advance(60)
        await ask_callback(h, second, "+821022220002")
        h.clock.advance(60)
        await ask_callback(h, again, "+821011110001")  # the first caller asks again: merged
        assert h.acd.calls == {} and list(h.acd.held.requests) == [first, second]
        assert h.acd.held.requests[first].merged == [again]

        h.acd.login("1001")
        h.clock.advance_to(at(8, 8, 59))
        assert h.api.requests == []  # nobody is called back before the opening
        h.clock.advance_to(at(8, 9))
        (create,) = await h.api.wait_for(1)
        assert (create.method, create.url, create.data["To"]) == ("POST", f"{CALLS_URL}.json",
                                                                   "sip:1001@pbx.example.com")
        assert create.data["StatusCallback"] == f"{PUBLIC}/twilio/callback?call={first}"
        assert customer_dial(create) == ("+821011110001", f"{PUBLIC}/twilio/callback-dial?call={first}")
        assert [c.id for c in h.acd.waiting_calls("general")] == [second]  # behind the first
        placed = [e for e in events if isinstance(e, CallArrived)]
        assert [(e.call_id, e.source, e.waited) for e in placed] == [
            (first, CALLBACK_SOURCE, at(8, 9) - at(7, 19)), (second, CALLBACK_SOURCE, at(8, 9) - at(7, 19, 1))]

        # the customer does not answer: dialled again after the delay, up to the attempts
        leg = f"CA{0xF001:032x}"
        await h.poster.post(f"/twilio/callback?call={first}", form(leg, CallStatus="in-progress"))
        assert h.acd.calls[first].state is CallState.ON_CALL
        retry = await dial_ended(h, first, leg, "no-answer")
        pause, number = retry.find("Pause"), retry.find("Dial/Number")
        assert pause is not None and pause.get("length") == "30" and number is not None
        assert number.text == "+821011110001"
        assert (await dial_ended(h, first, leg, "busy")).find("Dial") is not None
        assert [e.tag for e in await dial_ended(h, first, leg, "no-answer")] == ["Hangup"]  # 3 attempts
        await h.poster.post(f"/twilio/callback?call={first}", form(leg, CallStatus="completed"))
        ended = [e for e in events if isinstance(e, CallEnded)]
        assert [(e.call_id, e.disposition) for e in ended] == [(first, FAILED)]

        # the agent is free again (wrap-up done): the second callback, reached at the first dial
        h.acd.wrap_done("1001")
        second_create = (await h.api.wait_for(2))[1]
        assert customer_dial(second_create) == ("+821022220002", f"{PUBLIC}/twilio/callback-dial?call={second}")
        leg2 = f"CA{0xF002:032x}"
        await h.poster.post(f"/twilio/callback?call={second}", form(leg2, CallStatus="in-progress"))
        assert [e.tag for e in await dial_ended(h, second, leg2, "completed")] == ["Hangup"]
        await h.poster.post(f"/twilio/callback?call={second}", form(leg2, CallStatus="completed"))
        assert [(e.call_id, e.disposition) for e in events if isinstance(e, CallEnded)] == [
            (first, FAILED), (second, "")]
        book = h.gateway.callbacks.book
        assert [(r.call_id, r.outcome) for r in book.done] == [(first, Outcome.NO_ANSWER), (second, Outcome.REACHED)]
        assert book.report()["general"] == {"reached": 1, "no_answer": 1, "cancelled": 0, "merged": 1, "waiting": 0}
        assert len(h.api.requests) == 2


async def test_a_slot_is_honoured_and_a_cancelled_request_is_never_dialled(harness: Make) -> None:
    async with harness(clock=VirtualClock(at(7, 10))) as h:
        with_hours(h)
        events: list[Event] = []
        h.acd.subscribe(events.append)
        callbacks = h.gateway.callbacks
        h.acd.login("1001")
        slot = callbacks.arrive("cb-slot", "general", "+821033330003", slot=(at(7, 10, 30), at(7, 11)),
                                dialed="+8215990000")
        callbacks.arrive("cb-gone", "general", "+821044440004", slot=(at(7, 10, 20), at(7, 11)))
        assert not slot.placed and h.acd.calls == {}
        assert callbacks.cancel("general", "+821044440004")
        assert [(e.call_id, e.reason) for e in events if isinstance(e, CallbackDropped)] == [
            ("cb-gone", "callback_cancelled")]
        h.clock.advance_to(at(7, 10, 29))
        assert h.api.requests == []
        h.clock.advance_to(at(7, 10, 30))  # the slot begins: the agent is rung, then the customer
        (create,) = await h.api.wait_for(1)
        assert create.data["To"] == "sip:1001@pbx.example.com" and create.data["From"] == "+8215990000"
        assert customer_dial(create)[0] == "+821033330003"
        assert h.gateway.calls["cb-slot"].callback_number == "+821033330003"
        h.clock.advance_to(at(7, 12))
        assert len(h.api.requests) == 1  # the cancelled one is never dialled
        assert [(r.call_id, r.outcome) for r in callbacks.book.done] == [("cb-gone", Outcome.CANCELLED)]


async def test_a_waiting_callback_cancelled_leaves_the_queue_as_cancelled(harness: Make) -> None:
    async with harness(clock=VirtualClock(at(7, 10))) as h:
        with_hours(h)
        sid = call_sid(63)
        await ask_callback(h, sid, "+821055550005")
        assert h.acd.calls[sid].state is CallState.QUEUED and h.acd.calls[sid].source == CALLBACK_SOURCE
        assert h.gateway.callbacks.cancel("general", "+821055550005")
        assert sid not in h.acd.calls and sid not in h.gateway.calls
        book = h.gateway.callbacks.book
        assert [(r.call_id, r.outcome) for r in book.done] == [(sid, Outcome.CANCELLED)]


async def test_a_held_twilio_callback_restored_from_a_snapshot_is_dialled_at_the_opening(harness: Make) -> None:
    """A new process (a new gateway over an ACD restored from the old one's snapshot) places
    the held request at the opening and rings the agent, then the customer, for it."""
    async with harness(clock=VirtualClock(at(7, 19))) as old:
        with_hours(old)
        sid = call_sid(64)
        await ask_callback(old, sid, "+821066660006")
        snapshot = json.loads(json.dumps(take(old.acd)))  # as the journal stores it
    async with harness(clock=VirtualClock(at(7, 23))) as h:
        with_hours(h)
        replayed, _ = restore(snapshot, list(h.acd.queues.values()), into=h.acd)
        replayed.attach(h.clock)
        assert list(h.acd.held.requests) == [sid] and sid not in h.gateway.calls
        h.acd.login("1001")
        h.clock.advance_to(at(8, 9))
        (create,) = await h.api.wait_for(1)
        assert create.data["To"] == "sip:1001@pbx.example.com"
        assert customer_dial(create) == ("+821066660006", f"{PUBLIC}/twilio/callback-dial?call={sid}")
        assert h.acd.calls[sid].arrived_at == at(7, 19)  # its place: the first arrival
        leg = f"CA{0xF001:032x}"
        await h.poster.post(f"/twilio/callback?call={sid}", form(leg, CallStatus="in-progress"))
        await dial_ended(h, sid, leg, "completed")
        await h.poster.post(f"/twilio/callback?call={sid}", form(leg, CallStatus="completed"))
        assert [(r.call_id, r.outcome) for r in h.gateway.callbacks.book.done] == [(sid, Outcome.REACHED)]


async def test_a_callback_offered_while_waiting_keeps_its_place_across_a_restart(harness: Make) -> None:
    """Accepting the ACD's callback offer makes the waiting call a callback in the ACD's state
    (`callback_accepted`: caller = the callback number), so a new process dials it out
    instead of taking it for a caller on hold."""
    from .conftest import make_settings
    from .test_flow import offering

    async with harness(settings=make_settings(callback_entry="offer"), survey=True,
                       clock=VirtualClock(at(7, 10))) as old:
        offering(old)
        sid = call_sid(65)
        await old.poster.twiml("/twilio/voice", form(sid, From="+821077770007", To="+8215990000",
                                                     CallStatus="ringing", Direction="inbound"))
        await old.poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="0"))
        old.clock.advance(61)  # the offer step
        await old.api.wait_for(1)  # the redirect into the offer
        await old.poster.twiml(f"/twilio/resume?call={sid}", form(sid))
        await old.poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="1"))
        await old.poster.post("/twilio/status", form(sid, CallStatus="completed"))
        acd_call = old.acd.calls[sid]
        assert (acd_call.state, acd_call.source, acd_call.caller) == (CallState.QUEUED, CALLBACK_SOURCE,
                                                                      "+821077770007")
        snapshot = json.loads(json.dumps(take(old.acd)))
    async with harness(clock=VirtualClock(at(7, 10, 5))) as h:
        replayed, _ = restore(snapshot, list(h.acd.queues.values()), into=h.acd)
        replayed.attach(h.clock)
        h.acd.login("1001")
        (create,) = await h.api.wait_for(1)
        assert (create.url, create.data["To"]) == (f"{CALLS_URL}.json", "sip:1001@pbx.example.com")
        assert customer_dial(create) == ("+821077770007", f"{PUBLIC}/twilio/callback-dial?call={sid}")
