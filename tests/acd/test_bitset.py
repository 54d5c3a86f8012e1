"""The bit-set helpers of the routing indexes against plain arithmetic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from acd.bitset import from_positions, lowest

positions = st.sets(st.integers(0, 20_000), min_size=1, max_size=60)


@given(positions)
def test_lowest_is_the_smallest_position_of_the_set(chosen: set[int]) -> None:
    bits = sum(1 << pos for pos in chosen)
    assert lowest(bits) == min(chosen)


@given(st.lists(st.integers(0, 20_000), max_size=80))
def test_a_set_built_in_one_pass_holds_exactly_its_positions(chosen: list[int]) -> None:
    built = from_positions(chosen)
    assert built == sum(1 << pos for pos in set(chosen))
    assert built.bit_count() == len(set(chosen))
