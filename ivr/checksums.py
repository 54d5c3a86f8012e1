"""Check digits for numbers callers key in (ticket, card, booking numbers).

- luhn / mod10: the Luhn algorithm (the last digit checks the rest).
- mod11: weights 2,3,4,5,6,7 repeating from the right over the body; check digit
  (11 - sum % 11) % 11, where 10 cannot be keyed so such numbers are invalid.
- mod7: the last digit is the body (as a number) modulo 7 (IATA ticket/document numbers).
"""

from __future__ import annotations

from collections.abc import Callable


def luhn_valid(digits: str) -> bool:
    if len(digits) < 2 or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mod11_valid(digits: str) -> bool:
    if len(digits) < 2 or not digits.isdigit():
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    expected = (11 - total % 11) % 11
    return expected < 10 and expected == check


def mod7_valid(digits: str) -> bool:
    if len(digits) < 2 or not digits.isdigit():
        return False
    return int(digits[:-1]) % 7 == int(digits[-1])


CHECKSUMS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn_valid,
    "mod10": luhn_valid,
    "mod11": mod11_valid,
    "mod7": mod7_valid,
}
