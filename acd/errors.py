"""Errors the ACD core raises. Each names what was asked and why it cannot be done."""

from __future__ import annotations


class AcdError(Exception):
    """Base class of the core's errors."""


class UnknownAgent(AcdError, KeyError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r}")
        self.agent_id = agent_id

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownCall(AcdError, KeyError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"unknown call {call_id!r}")
        self.call_id = call_id

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownQueue(AcdError, KeyError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"unknown queue {queue!r}")
        self.queue = queue

    def __str__(self) -> str:
        return str(self.args[0])


class DuplicateCall(AcdError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is already known")
        self.call_id = call_id


class IllegalTransition(AcdError):
    """An agent or call was asked to move to a state it cannot reach from where it is."""

    def __init__(self, what: str, ident: str, current: str, wanted: str) -> None:
        super().__init__(f"{what} {ident!r} cannot go from {current} to {wanted}")
        self.what = what
        self.ident = ident
        self.current = current
        self.wanted = wanted
