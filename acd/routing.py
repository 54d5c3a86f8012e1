"""The index of waiting calls: which call a freed agent takes, whatever the number of call
requirements (queues x call skills x escalation steps) and waiting calls.

Every call holds a *position*, its place in arrival order (`Call.pos`, given at arrival and
kept when it returns to the queue, so FIFO within a priority is position order). For every
skill and every required level the index keeps one integer used as a bit set of the positions
of the waiting calls requiring exactly that level, one of the calls requiring the skill at
all, one per group an escalation opened, and one per priority. The calls an agent may take
are then the waiting calls minus those requiring a skill it lacks or a level above its own
(plus those of a group it belongs to): a few integer operations per skill, and the first call
for it is the lowest set bit of the highest priority that has one.

Positions only grow; when the next one is about twice the number of calls in the ACD the
index renumbers every call in arrival order so the integers stay about one bit per call wide.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator

from acd.agent import Agent
from acd.call import Call
from acd.queue import Requirement

ABOVE_ALL = 11  # a required level no agent has (agents have levels 1-10)


class WaitingCalls:
    """Calls waiting for an agent, by required skill level, group and (priority, arrival)."""

    __slots__ = ("_any", "_at", "_by_priority", "_for", "_groups", "_levels", "_next", "_priorities", "_slack",
                 "_targeted")

    def __init__(self, slack: int = 4096) -> None:
        self._slack = slack  # positions beyond twice the calls in the ACD before renumbering
        self._at: dict[int, Call] = {}  # position -> call (waiting under `Call.requirement`)
        self._by_priority: dict[int, int] = {}
        self._priorities: list[int] = []  # of waiting calls, highest first (negated, sorted)
        self._levels: dict[str, list[int]] = {}  # skill -> positions by exact required level
        self._any: dict[str, int] = {}  # skill -> positions of calls requiring it
        self._groups: dict[str, int] = {}
        self._targeted = 0  # positions of calls reserved for one agent (`Call.target`)
        self._for: dict[str, int] = {}  # agent id -> positions of the calls reserved for it
        self._next = 0

    def new_position(self, calls: Iterable[Call], count: int) -> int:
        """The position of a call arriving now. `calls` are the `count` calls in the ACD in
        arrival order (those that may wait again are among them): they are renumbered, the
        waiting ones re-indexed, when positions have grown to twice their number."""
        if self._next >= 2 * count + self._slack:
            waiting = [(call, call.requirement) for call in self._at.values()]
            for call, req in waiting:
                assert req is not None
                self._remove(call.pos, call, req)
            for pos, call in enumerate(calls):
                call.pos = pos
            self._next = count
            for call, req in waiting:
                assert req is not None
                self.push(call, req)
        pos = self._next
        self._next = pos + 1
        return pos

    def push(self, call: Call, req: Requirement) -> None:
        """`call` waits, under requirement `req` (kept as `call.requirement` until it leaves)."""
        pos = call.pos
        bit = 1 << pos
        call.requirement = req
        self._at[pos] = call
        priority = call.priority
        had = self._by_priority.get(priority, 0)
        if not had:
            insort(self._priorities, -priority)
        self._by_priority[priority] = had | bit
        if call.target:
            self._targeted |= bit
            self._for[call.target] = self._for.get(call.target, 0) | bit
        levels = self._levels
        wanted = self._any
        for skill, level in req.skills:
            if level <= 0:
                continue
            row = levels.get(skill)
            if row is None:
                row = levels[skill] = [0] * (ABOVE_ALL + 1)
            row[min(level, ABOVE_ALL)] |= bit
            wanted[skill] = wanted.get(skill, 0) | bit
        if req.groups:
            groups = self._groups
            for group in req.groups:
                groups[group] = groups.get(group, 0) | bit

    def discard(self, call: Call) -> None:
        """`call` stops waiting."""
        if self._at.get(call.pos) is call:
            assert call.requirement is not None
            self._remove(call.pos, call, call.requirement)

    def _remove(self, pos: int, call: Call, req: Requirement) -> None:
        bit = 1 << pos
        del self._at[pos]
        priority = call.priority
        left = self._by_priority[priority] ^ bit
        if left:
            self._by_priority[priority] = left
        else:
            del self._by_priority[priority]
            self._priorities.remove(-priority)
        if call.target:
            self._targeted &= ~bit
            mine = self._for[call.target] & ~bit
            if mine:
                self._for[call.target] = mine
            else:
                del self._for[call.target]
        levels = self._levels
        wanted = self._any
        for skill, level in req.skills:
            if level <= 0:
                continue
            levels[skill][min(level, ABOVE_ALL)] ^= bit
            rest = wanted[skill] ^ bit
            if rest:
                wanted[skill] = rest
            else:
                del wanted[skill]
                del levels[skill]
        if req.groups:
            groups = self._groups
            for group in req.groups:
                groups[group] ^= bit

    def first_for(self, agent: Agent) -> Call | None:
        """The highest-priority, earliest call `agent` may take. A call reserved for the
        agent comes before any other (its skills do not matter); one reserved for another
        agent is never its."""
        if not self._at:
            return None
        targeted = self._targeted
        if targeted:
            mine = self._for.get(agent.id, 0)
            if mine:
                return self._at[(mine & -mine).bit_length() - 1]
        skills = agent.config.skills
        levels = self._levels
        refused = 0
        for skill, calls in self._any.items():
            level = skills.get(skill, 0)
            if not level:
                refused |= calls
                continue
            row = levels[skill]
            for above in range(level + 1, ABOVE_ALL + 1):
                ranks = row[above]
                if ranks:
                    refused |= ranks
        opened = 0
        if agent.config.groups and self._groups:
            groups = self._groups
            for group in agent.config.groups:
                opened |= groups.get(group, 0)
        if targeted:
            refused |= targeted
            opened &= ~targeted
        by_priority = self._by_priority
        for negated in self._priorities:
            waiting = by_priority[-negated]
            takes = waiting & ~refused if refused else waiting
            if opened:
                takes |= waiting & opened
            if takes:
                return self._at[(takes & -takes).bit_length() - 1]
        return None

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self) -> Iterator[Call]:
        return iter([self._at[pos] for pos in sorted(self._at)])
