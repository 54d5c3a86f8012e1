"""Discrete-event simulation of a hotline: the real `Acd` on a `VirtualClock`, fed by
generated callers and driven by simulated agents. Seeded and reproducible."""

from acd.simulation.config import (
    AgentGroup,
    Distribution,
    Shift,
    SimulationConfig,
    Stream,
    parse_simulation,
)
from acd.simulation.report import QueueReport, Report
from acd.simulation.runner import Simulation

__all__ = [
    "AgentGroup",
    "Distribution",
    "QueueReport",
    "Report",
    "Shift",
    "Simulation",
    "SimulationConfig",
    "Stream",
    "parse_simulation",
]
