from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.hours import HoursError, parse_schedule


def epoch(tz: str, *args: int) -> float:
    return dt.datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def test_local_hours_follow_daylight_saving_time() -> None:
    ny = parse_schedule("America/New_York", {"mon-fri": "09:00-17:00"}, [])
    # 13:30 UTC is 08:30 in winter (EST) and 09:30 in summer (EDT); DST began 2026-03-08
    assert not ny.is_open(dt.datetime(2026, 3, 6, 13, 30, tzinfo=dt.UTC).timestamp())
    assert ny.is_open(dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.UTC).timestamp())
    assert not ny.is_open(epoch("America/New_York", 2026, 3, 9, 17, 0))  # end is exclusive
    assert ny.is_open(epoch("America/New_York", 2026, 3, 9, 16, 59))


def test_same_instant_open_in_one_zone_closed_in_another() -> None:
    weekly = {"mon-sun": "08:00-20:00"}
    instant = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC).timestamp()  # 11:00 Seoul
    assert parse_schedule("Asia/Seoul", weekly, []).is_open(instant)
    assert not parse_schedule("Europe/Paris", weekly, []).is_open(instant)  # 03:00 Paris


def test_holidays_special_hours_split_ranges_and_24h() -> None:
    s = parse_schedule(
        "Asia/Seoul",
        {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "00:00-24:00", "sun": "closed"},
        ["2026-12-25", {"date": "2026-12-24", "hours": "09:00-12:00"}],
    )
    assert s.is_open(epoch("Asia/Seoul", 2026, 11, 23, 9, 0))
    assert not s.is_open(epoch("Asia/Seoul", 2026, 11, 23, 12, 30))  # lunch
    assert s.is_open(epoch("Asia/Seoul", 2026, 11, 28, 23, 59))  # Saturday, all day
    assert not s.is_open(epoch("Asia/Seoul", 2026, 11, 29, 12, 0))  # Sunday
    assert not s.is_open(epoch("Asia/Seoul", 2026, 12, 25, 10, 0))  # holiday
    assert s.is_open(epoch("Asia/Seoul", 2026, 12, 24, 11, 0))
    assert not s.is_open(epoch("Asia/Seoul", 2026, 12, 24, 14, 0))  # special hours


@pytest.mark.parametrize(
    ("tz", "weekly", "holidays", "message"),
    [
        ("Nowhere/City", {"mon": "09:00-10:00"}, [], "unknown time zone"),
        ("Asia/Seoul", {"fri-mon": "09:00-10:00"}, [], "runs backwards"),
        ("Asia/Seoul", {"mon": "09:00-10:00"}, ["2026-02-30"], "invalid date"),
        ("Asia/Seoul", {"mon": "09:60-10:00"}, [], "invalid time"),
        ("Asia/Seoul", {"mon": "09:00-10:00"}, ["2026-12-25", "2026-12-25"], "given twice"),
    ],
)
def test_invalid_hours(tz: str, weekly: dict[str, str], holidays: list[str], message: str) -> None:
    with pytest.raises(HoursError, match=message):
        parse_schedule(tz, weekly, holidays)
