"""The index of routable agents: who may be offered a call now, by skill level and idle order.

Every routable agent holds a *rank*: its place in idle order (the agent that became routable,
or was last offered a call, first has the lowest rank). For every skill and every level 1-10
the index keeps one integer used as a bit set of the ranks of the routable agents with
exactly that level, and one per group. The agents meeting a requirement are then a few
integer operations (per required skill, the union of the levels at or above the minimum; the
intersection over skills; the union with the groups an escalation opened), whatever the
number of distinct skill profiles, and the longest-idle eligible agent is the lowest set bit.

`best_skill` partitions the eligible set by level, highest levels first, and stops as soon
as no branch can beat the best score found. `least_occupied` keeps, once a queue asks for it,
a sorted list of (load, occupancy, idle since, entry) over the routable agents: it walks that
list to the first eligible agent when the eligible set is large, and reads the figures of the
eligible agents when it is small, so either way the cost stays near the square root of the
number of agents at worst.

Ranks only grow; when the largest is about twice the number of routable agents, the index
renumbers them (same order) so the integers stay about one bit per routable agent wide.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator

from acd.agent import Agent
from acd.queue import Requirement

LEVELS = 11  # index 0 unused; levels 1-10
_EMPTY_ROW = (0,) * LEVELS
OrderKey = tuple[float, float, float, int, Agent]


class RoutableAgents:
    """Agents ready for a call (`Agent.indexed`), by skill level, group and idle order."""

    __slots__ = ("_at", "_entries", "_groups", "_levels", "_next", "_order", "_slack", "all", "figures")

    def __init__(self, figures: Callable[[Agent], tuple[float, float]], slack: int = 1024) -> None:
        # `figures(agent)` -> (load for its capacity, occupancy): the least-occupied order.
        self.figures = figures
        self._slack = slack  # ranks beyond twice the routable agents before renumbering
        self.all = 0  # ranks of every routable agent
        self._levels: dict[str, list[int]] = {}  # skill -> ranks by exact level
        self._groups: dict[str, int] = {}
        self._at: dict[int, Agent] = {}  # rank -> agent
        self._next = 0
        self._order: list[OrderKey] | None = None  # least-occupied order, built on first use
        self._entries = 0  # tie-break of least-occupied entries: when the figures were taken

    # -- membership ------------------------------------------------------------------------

    def add(self, agent: Agent) -> None:
        """`agent` becomes routable, the newest idle (it must not be in already)."""
        rank = self._next
        if rank >= 2 * len(self._at) + self._slack:
            self._renumber()
            rank = self._next
        self._next = rank + 1
        self._set(agent, rank)
        if self._order is not None:
            self._enter_order(agent)

    def _set(self, agent: Agent, rank: int) -> None:
        bit = 1 << rank
        agent.rank = rank
        agent.indexed = True
        self._at[rank] = agent
        self.all |= bit
        levels = self._levels
        for skill, level in agent.config.skills.items():
            row = levels.get(skill)
            if row is None:
                row = levels[skill] = [0] * LEVELS
            row[level] |= bit
        if agent.config.groups:
            groups = self._groups
            for group in agent.config.groups:
                groups[group] = groups.get(group, 0) | bit

    def remove(self, agent: Agent) -> None:
        if not agent.indexed:
            return
        agent.indexed = False
        self._clear(agent)
        if self._order is not None:
            self._leave_order(agent)

    def _clear(self, agent: Agent) -> None:
        rank = agent.rank
        bit = 1 << rank
        del self._at[rank]
        self.all ^= bit
        levels = self._levels
        for skill, level in agent.config.skills.items():
            levels[skill][level] ^= bit
        if agent.config.groups:
            groups = self._groups
            for group in agent.config.groups:
                groups[group] ^= bit

    def to_back(self, agent: Agent) -> None:
        """`agent` (in the index) was just offered a call and keeps a free slot: it becomes
        the newest idle, with its least-occupied figures taken again."""
        self.remove(agent)
        self.add(agent)

    def refigure(self, agent: Agent) -> None:
        """The load of `agent` (in the index) changed: take its least-occupied figures again
        (its idle order stays)."""
        if self._order is not None:
            self._leave_order(agent)
            self._enter_order(agent)

    def _renumber(self) -> None:
        agents = [self._at[rank] for rank in sorted(self._at)]
        self.all = 0
        self._levels = {}
        self._groups = {}
        self._at = {}
        for rank, agent in enumerate(agents):
            self._set(agent, rank)
        self._next = len(agents)

    def __contains__(self, agent: Agent) -> bool:
        return agent.indexed and self._at.get(agent.rank) is agent

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self) -> Iterator[Agent]:
        """Routable agents, longest idle first."""
        return iter([self._at[rank] for rank in sorted(self._at)])

    # -- queries ---------------------------------------------------------------------------

    def eligible(self, req: Requirement) -> int:
        """Ranks of the routable agents that meet `req` (a bit set)."""
        found = self.all
        levels = self._levels
        for skill, level in req.skills:
            if level <= 0:
                continue
            row = levels.get(skill)
            if row is None or level >= LEVELS:
                found = 0
                break
            meets = 0
            for at_level in range(level, LEVELS):
                ranks = row[at_level]
                if ranks:
                    meets |= ranks
            found &= meets
            if not found:
                break
        if req.groups:
            groups = self._groups
            for group in req.groups:
                found |= groups.get(group, 0)
        return found

    def longest_idle(self, req: Requirement) -> Agent | None:
        found = self.eligible(req)
        if not found:
            return None
        return self._at[(found & -found).bit_length() - 1]

    def best_skill(self, req: Requirement) -> Agent | None:
        """The eligible agent with the highest sum of levels on the required skills, ties to
        the longest idle."""
        found = self.eligible(req)
        if not found:
            return None
        rows = [self._levels.get(skill, _EMPTY_ROW) for skill, _ in req.skills]
        best = [-1, 0]  # score, rank

        def search(i: int, ranks: int, score: int) -> None:
            if i == len(rows):
                rank = (ranks & -ranks).bit_length() - 1
                if score > best[0] or (score == best[0] and rank < best[1]):
                    best[0], best[1] = score, rank
                return
            row = rows[i]
            rest = 10 * (len(rows) - i - 1)
            seen = 0
            for level in range(LEVELS - 1, 0, -1):
                if score + level + rest < best[0]:
                    return
                at_level = row[level]
                if at_level:
                    part = ranks & at_level
                    if part:
                        seen |= part
                        search(i + 1, part, score + level)
            if score + rest >= best[0] and seen != ranks:  # eligible by group, lacking the skill
                search(i + 1, ranks ^ seen, score)

        search(0, found, 0)
        return self._at[best[1]]

    def least_occupied(self, req: Requirement) -> Agent | None:
        """The eligible agent with the fewest calls for its capacity, then the least talk in
        the window (figures taken when it entered the index or its load changed), then the
        longest idle."""
        found = self.eligible(req)
        if not found:
            return None
        order = self._order
        if order is None:
            order = self._order = []
            for agent in self:
                self._enter_order(agent)
        count = found.bit_count()
        if count * count > len(order):  # many eligible: the first in order is near the front
            for entry in order:
                agent = entry[4]
                if req.satisfied_by(agent.config.skills, agent.config.groups):
                    return agent
            raise AssertionError("least-occupied order out of step with the index")
        bits = bin(found)
        top = len(bits) - 1
        best: OrderKey | None = None
        i = bits.find("1", 2)
        while i >= 0:
            key = self._at[top - i].order_key
            assert key is not None
            if best is None or key < best:
                best = key
            i = bits.find("1", i + 1)
        assert best is not None
        return best[4]

    def order_size(self) -> int:
        """Entries of the least-occupied order (one per routable agent once built)."""
        return 0 if self._order is None else len(self._order)

    def _enter_order(self, agent: Agent) -> None:
        assert self._order is not None
        load, occupancy = self.figures(agent)
        self._entries += 1
        entry = agent.order_key = (load, occupancy, agent.idle_since, self._entries, agent)
        insort(self._order, entry)

    def _leave_order(self, agent: Agent) -> None:
        order = self._order
        assert order is not None
        entry = agent.order_key
        assert entry is not None
        i = bisect_left(order, entry)
        assert order[i] is entry
        del order[i]
