"""The index of routable agents: who may be offered a call now, by skill level and idle order.

Every routable agent holds a *rank*: its place in idle order (the agent that became routable,
or was last offered a call, first has the lowest rank). For every skill and every level k
1-10 the index keeps one integer used as a bit set of the ranks of the agents with that skill
at level k or above, and one per group. The agents meeting a requirement are then one `&` per
required skill (plus, or-ed in, the groups an escalation opened), whatever the number of
distinct skill profiles, and the longest-idle eligible agent is the lowest set bit. Adding an
agent costs one `|` per level it has on each skill (the sum of its levels); removing it costs
one operation: its rank leaves `all`, which masks every query, and its bits stay in the skill
and group sets until the next renumbering (ranks are never given twice before it).

`best_skill` partitions the eligible set by level, highest levels first, and stops as soon
as no branch can beat the best score found. `least_occupied` keeps, once a queue asks for it,
a sorted list of (load, occupancy, idle since, entry) over the routable agents: it walks that
list to the first eligible agent when the eligible set is large (testing each entry's rank in
the eligible set written out once as a string of bits), and reads the figures of the eligible
agents when it is small or the walk has not found one within three entries per eligible
agent, so the cost stays near the square root of the number of agents unless the eligible
agents are all at the back of the order, and within twice the cost of reading them all.

Ranks only grow; when the largest is about twice the number of routable agents, the index
renumbers them (same order) and rebuilds the sets in one pass, so the integers stay about one
bit per routable agent wide.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator

from acd.agent import Agent
from acd.bitset import from_positions, lowest
from acd.queue import Requirement

LEVELS = 11  # index 0 unused; levels 1-10
_EMPTY_ROW = (0,) * LEVELS
OrderKey = tuple[float, float, float, int, Agent]


class RoutableAgents:
    """Agents ready for a call (`Agent.indexed`), by skill level, group and idle order."""

    __slots__ = ("_at", "_count", "_entries", "_ge", "_groups", "_next", "_order", "_slack", "all", "figures")

    def __init__(self, figures: Callable[[Agent], tuple[float, float]], slack: int = 1024) -> None:
        # `figures(agent)` -> (load for its capacity, occupancy): the least-occupied order.
        self.figures = figures
        self._slack = slack  # ranks beyond twice the routable agents before renumbering
        self.all = 0  # ranks of every routable agent (the other sets may hold former ones)
        self._ge: dict[str, list[int]] = {}  # skill -> ranks by level, at or above
        self._groups: dict[str, int] = {}
        self._at: list[Agent | None] = []  # rank -> agent (None: it left)
        self._count = 0
        self._next = 0
        self._order: list[OrderKey] | None = None  # least-occupied order, built on first use
        self._entries = 0  # tie-break of least-occupied entries: when the figures were taken

    # -- membership ------------------------------------------------------------------------

    def add(self, agent: Agent) -> None:
        """`agent` becomes routable, the newest idle (it must not be in already)."""
        if self._next >= 2 * self._count + self._slack:
            self._renumber()
        rank = self._next
        self._next = rank + 1
        bit = 1 << rank
        agent.rank = rank
        agent.indexed = True
        self._at.append(agent)
        self._count += 1
        self.all |= bit
        ge = self._ge
        for skill, level in agent.config.skills.items():
            row = ge.get(skill)
            if row is None:
                row = ge[skill] = [0] * LEVELS
            for at_least in range(1, level + 1):
                row[at_least] |= bit
        if agent.config.groups:
            groups = self._groups
            for group in agent.config.groups:
                groups[group] = groups.get(group, 0) | bit
        if self._order is not None:
            self._enter_order(agent)

    def remove(self, agent: Agent) -> None:
        if not agent.indexed:
            return
        agent.indexed = False
        self._at[agent.rank] = None
        self._count -= 1
        self.all ^= 1 << agent.rank
        if self._order is not None:
            self._leave_order(agent)

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
        """Ranks 0.. in idle order; the sets rebuilt from the routable agents alone."""
        agents = [agent for agent in self._at if agent is not None]
        exact: dict[str, list[list[int]]] = {}  # skill -> ranks by exact level
        groups: dict[str, list[int]] = {}
        for rank, agent in enumerate(agents):
            agent.rank = rank
            for skill, level in agent.config.skills.items():
                rows = exact.get(skill)
                if rows is None:
                    rows = exact[skill] = [[] for _ in range(LEVELS)]
                rows[level].append(rank)
            for group in agent.config.groups:
                groups.setdefault(group, []).append(rank)
        self._at = list(agents)
        self._next = self._count = len(agents)
        self.all = (1 << len(agents)) - 1
        self._groups = {group: from_positions(ranks) for group, ranks in groups.items()}
        self._ge = {}
        for skill, rows in exact.items():
            ge = self._ge[skill] = [0] * LEVELS
            at_or_above = 0
            for level in range(LEVELS - 1, 0, -1):
                if rows[level]:
                    at_or_above |= from_positions(rows[level])
                ge[level] = at_or_above

    def __contains__(self, agent: Agent) -> bool:
        return agent.indexed and agent.rank < len(self._at) and self._at[agent.rank] is agent

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Agent]:
        """Routable agents, longest idle first."""
        return iter([agent for agent in self._at if agent is not None])

    # -- queries ---------------------------------------------------------------------------

    def eligible(self, req: Requirement) -> int:
        """Ranks of the routable agents that meet `req` (a bit set)."""
        found = self.all
        ge = self._ge
        for skill, level in req.skills:
            if level <= 0:
                continue
            row = ge.get(skill)
            if row is None or level >= LEVELS:
                found = 0
                break
            found &= row[level]
            if not found:
                break
        if req.groups:
            groups = self._groups
            routable = self.all
            for group in req.groups:
                members = groups.get(group)
                if members:
                    found |= members & routable
        return found

    def _agent(self, rank: int) -> Agent:
        agent = self._at[rank]
        assert agent is not None, "a query found a rank that left"
        return agent

    def longest_idle(self, req: Requirement) -> Agent | None:
        found = self.eligible(req)
        if not found:
            return None
        return self._agent(lowest(found))

    def best_skill(self, req: Requirement) -> Agent | None:
        """The eligible agent with the highest sum of levels on the required skills, ties to
        the longest idle."""
        found = self.eligible(req)
        if not found:
            return None
        rows = [self._ge.get(skill, _EMPTY_ROW) for skill, _ in req.skills]
        best = [-1, 0]  # score, rank

        def search(i: int, ranks: int, score: int) -> None:
            if i == len(rows):
                rank = lowest(ranks)
                if score > best[0] or (score == best[0] and rank < best[1]):
                    best[0], best[1] = score, rank
                return
            row = rows[i]
            rest = 10 * (len(rows) - i - 1)
            above = 0  # the ranks of `ranks` with a level above `level` on this skill
            for level in range(LEVELS - 1, 0, -1):
                if score + level + rest < best[0]:
                    return
                at_least = row[level]
                if at_least:
                    reach = ranks & at_least
                    if reach != above:
                        search(i + 1, reach ^ above, score + level)
                        above = reach
            if score + rest >= best[0] and above != ranks:  # eligible by group, lacking the skill
                search(i + 1, ranks ^ above, score)

        search(0, found, 0)
        return self._agent(best[1])

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
        bits = bin(found)  # bits[top - rank] == "1": the agent at `rank` is eligible
        top = len(bits) - 1
        width = top - 1
        count = found.bit_count()
        if 3 * count * count > len(order):  # many eligible: the first in order is near the front
            budget = 3 * count  # entries walked for the price of reading every eligible agent
            for entry in order:
                rank = entry[4].rank
                if rank < width and bits[top - rank] == "1":
                    return entry[4]
                budget -= 1
                if not budget:
                    break
        best: OrderKey | None = None
        i = bits.find("1", 2)
        while i >= 0:
            key = self._agent(top - i).order_key
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
