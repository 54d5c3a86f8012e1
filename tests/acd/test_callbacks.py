"""Fair callbacks (acd/callbacks.py): business hours, arrival order, merging, slots, outcomes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from acd.callbacks import BusinessHours, CallbackBook, CallbackPolicy, Outcome, Request

SEOUL = ZoneInfo("Asia/Seoul")


def at(day: int, hour: int, minute: int = 0) -> float:
    """2026-12-<day> (the 7th is a Monday) in Seoul, as epoch seconds."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SEOUL).timestamp()


HOURS = BusinessHours.parse({"mon": "09:00-18:00", "tue": "09:00-18:00", "sat": ["09:00-12:00", "13:00-15:00"]},
                            "Asia/Seoul")


class World:
    def __init__(self, start: float, merge: bool = True) -> None:
        self.now = start
        self.placed: list[tuple[str, float]] = []
        self.book = CallbackBook(lambda: self.now, {"q": CallbackPolicy(HOURS, merge)}, self.place)

    def place(self, request: Request) -> None:
        self.placed.append((request.call_id, self.now))

    def advance_to(self, when: float) -> None:
        """Run the adapter's timer: to each next due time up to `when`."""
        while (due := self.book.next_due()) is not None and due <= when:
            self.now = due
            self.book.place_due()
        self.now = when


def test_hours_open_close_and_next_opening() -> None:
    assert HOURS.is_open(at(7, 9)) and HOURS.is_open(at(7, 17, 59)) and not HOURS.is_open(at(7, 18))
    assert not HOURS.is_open(at(12, 12, 30)) and HOURS.is_open(at(12, 13))  # Saturday's lunch break
    assert HOURS.next_open(at(7, 19)) == at(8, 9)  # Monday evening -> Tuesday 9:00
    assert HOURS.next_open(at(8, 18, 30)) == at(12, 9)  # Tuesday evening -> Saturday
    assert HOURS.next_open(at(12, 12, 10)) == at(12, 13)
    assert BusinessHours().is_open(at(13, 3))  # no hours: always open
    with pytest.raises(ValueError, match="HH:MM"):
        BusinessHours.parse({"mon": "9-18"})
    with pytest.raises(ValueError, match="not one of"):
        BusinessHours.parse({"monday": "09:00-18:00"})


def test_after_hours_requests_are_placed_at_the_opening_in_arrival_order() -> None:
    world = World(at(7, 18, 30))
    world.book.request("late", "q", "+82101", arrived_at=at(7, 18, 20))
    world.book.request("early", "q", "+82102", arrived_at=at(7, 17, 55))  # waited in the IVR since before 18:00
    world.now = at(7, 23)
    world.book.request("night", "q", "+82103")
    assert world.placed == []
    world.advance_to(at(8, 10))
    assert world.placed == [("early", at(8, 9)), ("late", at(8, 9)), ("night", at(8, 9))]


def test_within_hours_a_request_is_placed_at_once() -> None:
    world = World(at(7, 10))
    request = world.book.request("c1", "q", "+82101")
    assert request.placed and world.placed == [("c1", at(7, 10))]


def test_requests_from_the_same_number_are_merged_keeping_the_earlier_place() -> None:
    world = World(at(7, 20))
    first = world.book.request("c1", "q", "+82101", arrived_at=at(7, 19, 50))
    world.book.request("c2", "q", "+82102")
    again = world.book.request("c3", "q", "+82101", arrived_at=at(7, 19, 40))
    assert again is first and first.merged == ["c3"] and first.arrived_at == at(7, 19, 40)
    world.advance_to(at(8, 9, 30))
    assert [c for c, _ in world.placed] == ["c1", "c2"]
    unmerged = World(at(7, 20), merge=False)
    unmerged.book.request("c1", "q", "+82101")
    assert unmerged.book.request("c3", "q", "+82101").call_id == "c3"


def test_a_slot_is_honoured_and_a_missed_slot_is_served_at_the_next_opening() -> None:
    world = World(at(7, 10))
    world.book.request("slot", "q", "+82101", slot=(at(7, 15), at(7, 16)))
    world.book.request("evening", "q", "+82102", slot=(at(7, 19), at(7, 20)))  # after hours
    assert world.placed == []
    world.advance_to(at(7, 15, 30))
    assert world.placed == [("slot", at(7, 15))]
    world.advance_to(at(8, 12))
    assert world.placed[1] == ("evening", at(8, 9))
    with pytest.raises(ValueError, match="slot"):
        world.book.request("bad", "q", "+82103", slot=(at(7, 16), at(7, 15)))


def test_outcomes_are_recorded_and_reported_per_queue() -> None:
    world = World(at(7, 10))
    for n in range(4):
        world.book.request(f"c{n}", "q", f"+8210{n}")
    world.book.request("dup", "q", "+82100")
    world.book.finish("c0", Outcome.REACHED)
    world.book.finish("c1", Outcome.NO_ANSWER)
    assert world.book.cancel("q", "+82102") is not None
    assert world.book.cancel("q", "+82109") is None
    assert world.book.report() == {
        "q": {"reached": 1, "no_answer": 1, "cancelled": 1, "merged": 1, "waiting": 1}
    }
