"""Builds a running Hotline from its configuration: the one place adapters meet the core.

Tests call `build_app` with their own clock and configuration, the same way `hotline serve` does.
"""

from __future__ import annotations

import logging

from aiohttp import web

from acd.clock import AsyncioClock, Clock
from acd.engine import Acd
from hotline.api_auth import ApiSettings
from hotline.config import HotlineConfig
from hotline.server import (
    ACD_KEY,
    API_SETTINGS_KEY,
    CONFIG_KEY,
    EMERGENCY_KEY,
    add_api_routes,
    api_middleware,
)
from ivr.emergency import EmergencyState

log = logging.getLogger("hotline")


def build_acd(config: HotlineConfig, clock: Clock) -> Acd:
    acd = Acd(
        clock,
        config.queues,
        pause_on_ring_no_answer=config.acd.pause_on_ring_no_answer,
        occupancy_window=config.acd.occupancy_window,
    )
    for agent in config.agents:
        acd.add_agent(agent)
    return acd


def build_app(config: HotlineConfig, *, clock: Clock | None = None) -> web.Application:
    clock = clock or AsyncioClock()
    app = web.Application(middlewares=[api_middleware], client_max_size=1024 * 1024)
    app[CONFIG_KEY] = config
    app[ACD_KEY] = build_acd(config, clock)
    app[API_SETTINGS_KEY] = ApiSettings.from_section(config.section("api"))
    app[EMERGENCY_KEY] = EmergencyState()
    add_api_routes(app)
    return app
