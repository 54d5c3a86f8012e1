"""Erlang C against values worked out independently (closed forms and the textbook sum)."""

from __future__ import annotations

import math

import pytest

from acd.erlang import asa, erlang, erlang_b, erlang_c, service_level


def erlang_c_by_sum(n: int, a: float) -> float:
    """The textbook formula, term by term (fine for small n)."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_single_agent_waits_with_probability_rho() -> None:
    # M/M/1: P(wait) = rho, mean wait = rho / (mu - lambda)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert asa(0.7 / 100, 100.0, 1) == pytest.approx(0.7 / (0.01 - 0.007))


def test_two_agents_one_erlang() -> None:
    # M/M/2 with a = 1: P(wait) = 1/3, ASA = (1/3) * AHT / (2 - 1)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert asa(1 / 60, 60.0, 2) == pytest.approx(20.0)


def test_erlang_b_known_values() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)


@pytest.mark.parametrize(("n", "a"), [(3, 2.5), (10, 8.0), (13, 10.0), (20, 17.5), (33, 30.0)])
def test_agrees_with_the_textbook_sum(n: int, a: float) -> None:
    assert erlang_c(n, a) == pytest.approx(erlang_c_by_sum(n, a), rel=1e-9)


def test_call_centre_example() -> None:
    # 100 calls per 30 minutes, AHT 180 s -> 10 erlangs; 13 agents, 20 s target
    figures = erlang(100 / 1800, 180.0, 13, 20.0)
    c = erlang_c_by_sum(13, 10.0)
    assert figures.load == pytest.approx(10.0)
    assert figures.p_wait == pytest.approx(c)
    assert figures.asa == pytest.approx(c * 180.0 / 3)
    assert figures.service_level == pytest.approx(1 - c * math.exp(-3 * 20.0 / 180.0))
    assert figures.occupancy == pytest.approx(10 / 13)
    assert 0.0 < figures.service_level < 1.0


def test_more_agents_wait_less() -> None:
    values = [erlang_c(n, 10.0) for n in range(11, 20)]
    assert values == sorted(values, reverse=True)
    assert service_level(10 / 180, 180.0, 12, 20.0) < service_level(10 / 180, 180.0, 14, 20.0)


def test_overloaded_queue() -> None:
    figures = erlang(1 / 10, 100.0, 10)
    assert figures.p_wait == 1.0
    assert math.isinf(figures.asa)
    assert figures.service_level == 0.0
    assert figures.to_dict()["asa"] is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        erlang_c(0, 1.0)
    with pytest.raises(ValueError):
        erlang(1.0, 0.0, 3)
