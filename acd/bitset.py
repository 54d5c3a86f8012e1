"""Python integers used as bit sets, the way the routing indexes need them fast.

On CPython an operation between two non-negative integers costs about a machine word of work
per 64 bits; one with a negative operand (`x & -x`, `x & ~y`) converts to two's complement
first and costs about five times as much. So the indexes keep every set non-negative, write
`x & ~y` as `x ^ (x & y)`, and find the lowest set bit on a small prefix first: an `&` with a
small mask only reads the mask's width, and in the routing sets the lowest bit (the longest
idle agent, the oldest waiting call) is usually near the bottom.
"""

from __future__ import annotations

from collections.abc import Iterable

_PREFIXES = tuple((1 << width) - 1 for width in (64, 512, 4096))


def lowest(bits: int) -> int:
    """The index of the lowest set bit of `bits` (> 0)."""
    for mask in _PREFIXES:
        low = bits & mask
        if low:
            return (low & -low).bit_length() - 1
    return (bits & -bits).bit_length() - 1


def from_positions(positions: Iterable[int]) -> int:
    """The set of `positions`, built in one pass (or-ing bits one by one into a wide integer
    copies it every time)."""
    buf = bytearray()
    for pos in positions:
        byte = pos >> 3
        if byte >= len(buf):
            buf.extend(bytes(byte + 1 - len(buf) + len(buf) // 2))
        buf[byte] |= 1 << (pos & 7)
    return int.from_bytes(buf, "little")
