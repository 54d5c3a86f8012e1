"""A call's rarely used fields (hold-out, aging raises, parties, monitors) live in one object
shared by the calls that keep their defaults: writing one call's must not reach another's."""

from __future__ import annotations

from acd.call import Call


def two_calls() -> tuple[Call, Call]:
    return Call("c1", "q", arrived_at=0.0, seq=0), Call("c2", "q", arrived_at=0.0, seq=1)


def test_a_call_changed_from_the_defaults_leaves_the_others_at_theirs() -> None:
    first, second = two_calls()
    first.held_from, first.held_until, first.aged = "a1", 12.5, 2
    first.parties = {"p1": object()}
    first.monitors = {"s1": ("listen", 3.0)}
    assert (second.held_from, second.held_until, second.aged, second.parties, second.monitors) == (
        "", 0.0, 0, None, None)
    assert (first.held_from, first.held_until, first.aged) == ("a1", 12.5, 2)
    assert first.parties is not None and list(first.parties) == ["p1"]
    assert first.monitors == {"s1": ("listen", 3.0)}


def test_writing_a_default_keeps_a_call_on_the_shared_defaults_and_back_to_it_clears() -> None:
    first, second = two_calls()
    first.held_from = ""
    first.held_until = 0.0
    first.parties = None
    assert first._rare is second._rare  # nothing was made for defaults
    first.held_from = "a1"
    assert first._rare is not second._rare
    first.held_from = ""  # a hold-out that ends: the call's own fields go back to the default
    assert first.held_from == "" and second.held_from == ""
    first.aged += 1
    assert first.aged == 1 and second.aged == 0
