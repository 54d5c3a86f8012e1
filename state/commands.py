"""ACD operations as data, for a follower to send to the leader: which ones, how they run,
and how the leader's refusal comes back as the same `AcdError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acd import live_config
from acd.engine import Acd
from acd.errors import (
    AcdError,
    DuplicateCall,
    IllegalTransition,
    UnknownAgent,
    UnknownCall,
    UnknownQueue,
)

AGENT_OPS = frozenset({"login", "logout", "cancel_logout", "pause", "unpause", "wrap_done", "set_disposition"})
CALL_OPS = frozenset({"arrive", "answer", "ring_no_answer", "abandon", "end"})
ARGS: Mapping[str, frozenset[str]] = {
    "login": frozenset({"agent_id"}),
    "logout": frozenset({"agent_id", "when_free"}),
    "cancel_logout": frozenset({"agent_id"}),
    "pause": frozenset({"agent_id", "reason"}),
    "unpause": frozenset({"agent_id"}),
    "wrap_done": frozenset({"agent_id"}),
    "set_disposition": frozenset({"agent_id", "code", "call_id"}),
    "arrive": frozenset({"call_id", "queue", "caller", "language", "priority", "tier", "skills", "source", "dialed"}),
    "answer": frozenset({"call_id"}),
    "ring_no_answer": frozenset({"call_id"}),
    "abandon": frozenset({"call_id", "reason"}),
    "end": frozenset({"call_id", "disposition"}),
    # transfers, conferences, supervisors (acd/transfer.py)
    "transfer": frozenset({"call_id", "agent", "queue", "number", "priority"}),
    "add_party": frozenset({"call_id", "agent", "queue", "number", "role"}),
    "party_answered": frozenset({"call_id", "party"}),
    "merge": frozenset({"call_id"}),
    "remove_party": frozenset({"call_id", "party", "reason"}),
    "complete_transfer": frozenset({"call_id"}),
    "leave": frozenset({"call_id", "agent_id"}),
    "monitor": frozenset({"call_id", "supervisor", "mode"}),
    "unmonitor": frozenset({"call_id", "supervisor", "reason"}),
    "configure_queue": frozenset({"data"}),  # acd.live_config: the queue as plain data
    "configure_agent": frozenset({"data"}),  # the agent's fields (AgentConfig's)
}


class CommandError(AcdError):
    """A command the leader refused (or could not read), with its reply."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(str(reply.get("message", "refused")))
        self.reply = reply

    @classmethod
    def of(cls, exc: AcdError) -> CommandError:
        reply: dict[str, Any] = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, IllegalTransition):
            reply.update(what=exc.what, ident=exc.ident, current=exc.current, wanted=exc.wanted)
        for name in ("agent_id", "call_id", "queue"):
            if hasattr(exc, name):
                reply[name] = getattr(exc, name)
        return cls(reply)


def execute(acd: Acd, op: str, args: Mapping[str, Any]) -> None:
    """Run `op` on `acd`; CommandError when it is not a known operation or its arguments are
    wrong, the engine's AcdError when it refuses."""
    allowed = ARGS.get(op)
    if allowed is None or not set(args) <= allowed:
        raise CommandError({"ok": False, "error": "bad_command", "message": f"not an ACD command: {op} {sorted(args)}"})
    values = dict(args)
    if op == "configure_queue":
        live_config.configure_queue(acd, live_config.queue_from_data(values["data"]))
    elif op == "configure_agent":
        live_config.configure_agent(acd, live_config.agent_from_data(values["data"]))
    elif op == "arrive":
        acd.arrive(values.pop("call_id"), values.pop("queue"), **values)
    elif op in AGENT_OPS:
        getattr(acd, op)(values.pop("agent_id"), **values)
    else:
        getattr(acd, op)(values.pop("call_id"), **values)


def raise_reply(reply: Mapping[str, Any]) -> None:
    """Raise the error a leader's reply carries (as the engine's own class when it is one)."""
    if reply.get("ok"):
        return
    kind = reply.get("error")
    if kind == "IllegalTransition":
        raise IllegalTransition(reply["what"], reply["ident"], reply["current"], reply["wanted"])
    if kind == "UnknownAgent":
        raise UnknownAgent(reply.get("agent_id", ""))
    if kind == "UnknownCall":
        raise UnknownCall(reply.get("call_id", ""))
    if kind == "UnknownQueue":
        raise UnknownQueue(reply.get("queue", ""))
    if kind == "DuplicateCall":
        raise DuplicateCall(reply.get("call_id", ""))
    raise CommandError(dict(reply))
