"""What agents and supervisors ask of the ACD about agents: add and edit them, log in and
out (at once or when free), pause (at once or when free), unpause, end a wrap-up, record a
call's disposition. Each request is checked against the state table (acd/agent.py) and
refused with `IllegalTransition`, changing nothing. Mixed into `Acd` (which provides what
is declared here)."""

from __future__ import annotations

from acd.agent import Agent, AgentConfig, AgentState
from acd.agent_index import RoutableAgents
from acd.call import Call
from acd.clock import Clock
from acd.dispatch import EventDispatch, operation
from acd.errors import IllegalTransition, UnknownAgent
from acd.events import AgentLoggedIn, CallDispositioned

_WRAP_UP = AgentState.WRAP_UP


class AgentOps(EventDispatch):
    """Agents' requests; mixed into `Acd`."""

    agents: dict[str, Agent]
    calls: dict[str, Call]
    clock: Clock
    available: RoutableAgents

    # -- provided by the engine ------------------------------------------------------------

    def _set_state(self, agent: Agent, new: AgentState, reason: str = "", call_id: str = "") -> None:
        raise NotImplementedError

    def _agent_free(self, agent: Agent) -> None:
        raise NotImplementedError

    def _on_call_changed(self, agent: Agent) -> None:
        raise NotImplementedError

    def _pending_changed(self, agent: Agent) -> None:
        raise NotImplementedError

    def _wrap_over(self, agent: Agent) -> None:
        raise NotImplementedError

    # -- requests --------------------------------------------------------------------------

    def add_agent(self, config: AgentConfig) -> Agent:
        if config.id in self.agents:
            raise ValueError(f"agent {config.id!r} is already known")
        agent = self.agents[config.id] = Agent(config, self.clock.now())
        return agent

    @operation
    def update_agent(self, config: AgentConfig) -> Agent:
        """Edit a known agent live (skills and levels, groups, capacity, name): its state and
        calls in progress stay; a free agent is offered at once a waiting call it can now take.
        A capacity below its current calls takes effect as they end."""
        agent = self.agent(config.id)
        if agent.indexed:
            self.available.remove(agent)
        agent.config = config
        agent.capacity = config.capacity
        if agent.state is AgentState.AVAILABLE:
            self._agent_free(agent)
        elif agent.state is AgentState.ON_CALL:
            self._on_call_changed(agent)
        return agent

    def agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    @operation
    def login(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.LOGGED_OUT or agent.config.disabled:
            raise IllegalTransition("agent", agent.id, "disabled" if agent.config.disabled else agent.state.value,
                                    "login")
        agent.logout_pending = False
        agent.pause_pending = ""
        agent.ring_outs = 0
        if AgentLoggedIn in self._wants:
            self._emit(
                AgentLoggedIn(
                    self.clock.now(),
                    agent.id,
                    tuple(sorted(agent.config.skills.items())),
                    tuple(sorted(agent.config.groups)),
                )
            )
        self._set_state(agent, AgentState.AVAILABLE)
        self._agent_free(agent)

    @operation
    def logout(self, agent_id: str, *, when_free: bool = False) -> None:
        """Log the agent out; with `when_free`, an agent busy with calls (ringing, talking)
        logs out when they are over (after wrap-up) instead of taking another."""
        agent = self.agent(agent_id)
        if when_free and agent.state in (AgentState.RINGING, AgentState.ON_CALL):
            if agent.logout_pending:
                return
            agent.logout_pending = True
            self.available.remove(agent)  # an agent on calls with a free slot takes no more
            self._pending_changed(agent)
            return
        if when_free and agent.state is AgentState.LOGGED_OUT:
            return
        self._set_state(agent, AgentState.LOGGED_OUT)  # refused: a pending logout stays
        agent.logout_pending = False
        agent.pause_pending = ""

    @operation
    def cancel_logout(self, agent_id: str) -> None:
        """Withdraw a pending `logout(when_free=True)`: the agent keeps working (and, on calls
        with a free slot, becomes routable again)."""
        agent = self.agent(agent_id)
        if not agent.logout_pending or agent.config.disabled:  # a disabled agent goes (live_config)
            return
        agent.logout_pending = False
        self._pending_changed(agent)
        if agent.state is AgentState.ON_CALL:
            self._on_call_changed(agent)

    @operation
    def pause(self, agent_id: str, reason: str = "") -> None:
        """Pause (from available or wrap-up). A disabled agent (logged out once its calls are
        over) pausing in its wrap-up is logged out instead: it may not stay on."""
        agent = self.agent(agent_id)
        if agent.state is AgentState.RINGING:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.PAUSED.value)
        if agent.config.disabled and agent.logout_pending and not agent.calls and agent.state is _WRAP_UP:
            agent.logout_pending = False
            agent.pause_pending = ""
            self._set_state(agent, AgentState.LOGGED_OUT)
            return
        self._set_state(agent, AgentState.PAUSED, reason)
        agent.pause_pending = ""

    @operation
    def pause_when_free(self, agent_id: str, reason: str = "") -> None:
        """A supervisor's pause: at once when the agent has no call, else once its calls and
        wrap-up are over (it takes no new call meanwhile). A pending logout wins."""
        agent = self.agent(agent_id)
        if agent.state not in (AgentState.RINGING, AgentState.ON_CALL):
            self.pause(agent_id, reason)
            return
        if agent.logout_pending:
            return
        agent.pause_pending = reason or "supervisor"
        self.available.remove(agent)
        self._pending_changed(agent)

    @operation
    def unpause(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.PAUSED:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.AVAILABLE.value)
        self._set_state(agent, AgentState.AVAILABLE)
        self._agent_free(agent)

    @operation
    def wrap_done(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not _WRAP_UP:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.AVAILABLE.value)
        self._wrap_over(agent)

    @operation
    def set_disposition(self, agent_id: str, code: str, call_id: str | None = None) -> None:
        """Record the disposition of the agent's current or last call, or of `call_id` (one
        of the agent's active calls or its last ended one: agents of capacity > 1 name it)."""
        agent = self.agent(agent_id)
        if call_id is None:
            call_id = agent.call_id
            if not call_id:
                raise IllegalTransition("agent", agent.id, agent.state.value, "disposition (no call)")
        elif call_id not in agent.calls and (agent.last_ended is None or agent.last_ended.id != call_id):
            raise IllegalTransition(
                "agent", agent.id, agent.state.value, f"disposition of {call_id!r} (not its call)"
            )
        if CallDispositioned in self._wants:
            self._emit(CallDispositioned(self.clock.now(), call_id, agent.id, code))
