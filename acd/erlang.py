"""Erlang C: the M/M/N queue (Poisson arrivals, exponential handling, N agents, nobody hangs up).

`a = arrival_rate * aht` is the offered load in erlangs. With `a < n`:

    P(wait)      = C(n, a), the Erlang C formula (computed through Erlang B, which is stable)
    ASA          = C(n, a) * aht / (n - a)
    SL(T)        = 1 - C(n, a) * exp(-(n - a) * T / aht)      (share answered within T seconds)
    occupancy    = a / n

With `a >= n` the queue grows without bound: P(wait) = 1, ASA infinite, SL 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of `n` servers offered `a` erlangs (no waiting room)."""
    if n < 0 or a < 0:
        raise ValueError("erlang_b needs n >= 0 and a >= 0")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability that an arriving call has to wait (M/M/n, offered load `a` erlangs)."""
    if n < 1:
        raise ValueError("erlang_c needs at least one agent")
    if a < 0:
        raise ValueError("offered load must not be negative")
    if a >= n:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


@dataclass(frozen=True, slots=True)
class ErlangC:
    """Theoretical figures of one M/M/N queue."""

    arrival_rate: float  # calls per second
    aht: float  # mean handle time, seconds
    agents: int
    sl_seconds: float
    load: float  # erlangs
    p_wait: float
    asa: float  # seconds (inf when overloaded)
    service_level: float
    occupancy: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "arrival_rate": self.arrival_rate,
            "aht": self.aht,
            "agents": self.agents,
            "sl_seconds": self.sl_seconds,
            "load": self.load,
            "p_wait": self.p_wait,
            "asa": None if math.isinf(self.asa) else self.asa,
            "service_level": self.service_level,
            "occupancy": self.occupancy,
        }


def asa(arrival_rate: float, aht: float, agents: int) -> float:
    """Average speed of answer (mean wait of all calls, in seconds)."""
    a = arrival_rate * aht
    if a >= agents:
        return math.inf
    return erlang_c(agents, a) * aht / (agents - a)


def service_level(arrival_rate: float, aht: float, agents: int, seconds: float) -> float:
    """Share of calls answered within `seconds`."""
    a = arrival_rate * aht
    if a >= agents:
        return 0.0
    return 1.0 - erlang_c(agents, a) * math.exp(-(agents - a) * seconds / aht)


def erlang(arrival_rate: float, aht: float, agents: int, sl_seconds: float = 20.0) -> ErlangC:
    """All figures for `arrival_rate` calls/s, mean handle `aht` s, `agents` agents."""
    if arrival_rate < 0 or aht <= 0:
        raise ValueError("need arrival_rate >= 0 and aht > 0")
    a = arrival_rate * aht
    return ErlangC(
        arrival_rate=arrival_rate,
        aht=aht,
        agents=agents,
        sl_seconds=sl_seconds,
        load=a,
        p_wait=erlang_c(agents, a),
        asa=asa(arrival_rate, aht, agents),
        service_level=service_level(arrival_rate, aht, agents, sl_seconds),
        occupancy=min(1.0, a / agents),
    )
