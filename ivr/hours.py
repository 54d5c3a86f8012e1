"""Business hours and holidays in a time zone: is the hotline open at an epoch time?

Weekly hours map days or day ranges (`mon`, `mon-fri`, `sat-sun`) to `"08:00-20:00"`, a list of
such ranges, or `"closed"`; `24:00` may end a range. A range never crosses midnight (write
`fri: 22:00-24:00` and `sat: 00:00-06:00`). Holidays are dates (`2026-12-25`, closed all day)
or `{date, hours}` for special hours. Days not listed are closed. Local times follow the zone's
daylight-saving rules (zoneinfo).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Range = tuple[int, int]  # minutes since local midnight, [start, end)


class HoursError(ValueError):
    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Schedule:
    timezone: str
    weekly: Mapping[int, tuple[Range, ...]]  # weekday (0 = Monday) -> ranges
    holidays: Mapping[dt.date, tuple[Range, ...]] = field(default_factory=dict)

    def local(self, epoch: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, ZoneInfo(self.timezone))

    def is_open(self, epoch: float) -> bool:
        local = self.local(epoch)
        ranges = self.holidays.get(local.date())
        if ranges is None:
            ranges = self.weekly.get(local.weekday(), ())
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in ranges)


def _minutes(text: str, path: tuple[str | int, ...]) -> int:
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise HoursError(f"invalid time {text!r} (HH:MM)", path) from None
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise HoursError(f"invalid time {text!r}", path)
    return h * 60 + m


def parse_ranges(value: Any, path: tuple[str | int, ...]) -> tuple[Range, ...]:
    if value == "closed" or value is None or value == []:
        return ()
    items: Sequence[Any] = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise HoursError("hours must be 'HH:MM-HH:MM', a list of them, or 'closed'", path)
    ranges = []
    for i, item in enumerate(items):
        where = path if isinstance(value, str) else (*path, i)
        if not isinstance(item, str) or item.count("-") != 1:
            raise HoursError(f"invalid range {item!r} (HH:MM-HH:MM)", where)
        a, b = item.split("-")
        start, end = _minutes(a.strip(), where), _minutes(b.strip(), where)
        if end <= start:
            raise HoursError(
                f"range {item!r} ends before it starts (split ranges at midnight)", where
            )
        ranges.append((start, end))
    ranges.sort()
    for (_, end1), (start2, _) in itertools.pairwise(ranges):
        if start2 < end1:
            raise HoursError(f"overlapping ranges in {value!r}", path)
    return tuple(ranges)


def _days(spec: str, path: tuple[str | int, ...]) -> list[int]:
    names = [p.strip().lower() for p in spec.split("-")]
    if len(names) > 2 or any(n not in DAYS for n in names):
        raise HoursError(f"invalid day {spec!r} (mon..sun or a range like mon-fri)", path)
    first, last = DAYS.index(names[0]), DAYS.index(names[-1])
    if last < first:
        raise HoursError(f"day range {spec!r} runs backwards", path)
    return list(range(first, last + 1))


def parse_schedule(
    timezone: Any, weekly: Any, holidays: Any, path: tuple[str | int, ...] = ()
) -> Schedule:
    """Build a Schedule; raises HoursError (with the path of the bad value) on invalid hours."""
    if not isinstance(timezone, str):
        raise HoursError("timezone must be a name like Asia/Seoul", (*path, "timezone"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {timezone!r}", (*path, "timezone")) from None
    if not isinstance(weekly, Mapping):
        raise HoursError("weekly must map days to hours", (*path, "weekly"))
    week: dict[int, tuple[Range, ...]] = {}
    for spec, value in weekly.items():
        where = (*path, "weekly", spec)
        for day in _days(str(spec), where):
            if day in week:
                raise HoursError(f"{DAYS[day]} is given twice", where)
            week[day] = parse_ranges(value, where)
    days: dict[dt.date, tuple[Range, ...]] = {}
    for i, item in enumerate(holidays or []):
        where = (*path, "holidays", i)
        date_text, hours = (
            (item.get("date"), item.get("hours")) if isinstance(item, Mapping) else (item, None)
        )
        try:
            date = dt.date.fromisoformat(str(date_text))
        except ValueError:
            raise HoursError(f"invalid date {date_text!r} (YYYY-MM-DD)", where) from None
        if date in days:
            raise HoursError(f"holiday {date} is given twice", where)
        days[date] = parse_ranges(hours, (*where, "hours")) if hours is not None else ()
    return Schedule(timezone, week, days)
