"""Who hung up first on a talking Asterisk call: the caller or the agent (COMPLETECALLER /
COMPLETEAGENT in the queue_log, hotline/queue_log.py).

The core's `call_ended` does not say; the Asterisk channels do, but not by the order of their
Hangup events: when the caller hangs up, Dial hangs up the agent's leg before the caller's
own channel goes, so the agent's Hangup comes first either way. What does tell is the
dialplan: the connect context Dials with option `g`, so the caller's channel goes on to the
`talked` priority only when the agent hung up, and that priority sends
`UserEvent(HotlineAgentHungUp)` (asterisk/confgen.py) before the survey or the Hangup that
ends the call. `HangupSides` keeps those calls and tells `on_ended_by(call_id, agent)` right
before the adapter ends the call in the core.
"""

from __future__ import annotations

from collections.abc import Callable

from asterisk.ami_parser import AmiMessage

AGENT_HUNG_UP = "HotlineAgentHungUp"  # the UserEvent name of the connect context's `talked` priority
KEPT = 10_000  # calls remembered at most (a UserEvent of a call that never ends here)


class HangupSides:
    def __init__(self, on_ended_by: Callable[[str, bool], None] | None = None) -> None:
        self.on_ended_by = on_ended_by
        self._agent_first: dict[str, None] = {}  # call ids, oldest first

    def on_user_event(self, msg: AmiMessage) -> None:
        """AMI `UserEvent`: the connect context's mark that the agent hung up first."""
        if msg.get("UserEvent") != AGENT_HUNG_UP:
            return
        call_id = msg.headers.get("Uniqueid", "")
        if call_id:
            self._agent_first[call_id] = None
            if len(self._agent_first) > KEPT:
                del self._agent_first[next(iter(self._agent_first))]

    def agent_first(self, call_id: str) -> bool:
        return call_id in self._agent_first

    def ending(self, call_id: str, *, agent: bool | None = None) -> None:
        """The talking call `call_id` is about to end in the core: tell who hung up first
        (`agent` when the adapter knows it otherwise, e.g. the survey's AGI)."""
        marked = call_id in self._agent_first
        self._agent_first.pop(call_id, None)
        if self.on_ended_by is not None:
            self.on_ended_by(call_id, marked if agent is None else agent)
