from __future__ import annotations

from ivr.checksums import CHECKSUMS, luhn_valid, mod7_valid, mod11_valid


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("7992739871x")
    assert not luhn_valid("7")


def test_mod11() -> None:
    # body 12345: weights 2..6 from the right: 5*2+4*3+3*4+2*5+1*6 = 50; (11 - 50 % 11) % 11 = 5
    assert mod11_valid("123455")
    assert not mod11_valid("123454")
    # a body whose check digit would be 10 cannot be keyed in
    body = next(
        b
        for b in (f"{n:05d}" for n in range(100000))
        if (11 - sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(b))) % 11) % 11 == 10
    )
    assert not any(mod11_valid(body + str(d)) for d in range(10))


def test_mod7_ticket_numbers() -> None:
    assert mod7_valid("1234567890124")  # 123456789012 % 7 == 4
    assert not mod7_valid("1234567890125")
    assert CHECKSUMS["mod10"] is luhn_valid
