"""Sign-in throttling: after `max_failures` failed attempts within `window` seconds, the login
(and, at four times the count, the client address) is locked out for `lockout` seconds.

Kept in memory with bounded size; time comes from the injected clock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MAX_KEYS = 10_000
ADDRESS_FACTOR = 4


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self, clock: Callable[[], float], *, max_failures: int = 5, window: float = 900,
        lockout: float = 300,
    ) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._records: OrderedDict[str, _Record] = OrderedDict()

    @staticmethod
    def keys(login: str, address: str) -> list[tuple[str, int]]:
        """The throttled keys of one attempt and the failures each may have."""
        return [(f"login:{login.strip().lower()}", 1), (f"addr:{address}", ADDRESS_FACTOR)]

    def retry_after(self, login: str, address: str) -> float | None:
        """Seconds until an attempt is allowed again, or None when it is allowed now."""
        now = self.clock()
        waits = [
            record.locked_until - now
            for key, _ in self.keys(login, address)
            if (record := self._records.get(key)) is not None and record.locked_until > now
        ]
        return max(waits) if waits else None

    def failed(self, login: str, address: str) -> None:
        now = self.clock()
        for key, factor in self.keys(login, address):
            record = self._records.pop(key, None) or _Record()
            record.failures = [t for t in record.failures if now - t < self.window] + [now]
            if len(record.failures) >= self.max_failures * factor:
                record.locked_until = now + self.lockout
                record.failures = []
            self._records[key] = record
        self._prune(now)

    def succeeded(self, login: str) -> None:
        self._records.pop(self.keys(login, "")[0][0], None)

    def _prune(self, now: float) -> None:
        while len(self._records) > MAX_KEYS:
            self._records.popitem(last=False)
        stale: Iterable[str] = [
            k for k, r in list(self._records.items())[:64]
            if r.locked_until <= now and all(now - t >= self.window for t in r.failures)
        ]
        for key in stale:
            del self._records[key]
