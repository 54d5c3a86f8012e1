"""Builds a running Hotline from its configuration: the one place adapters meet the core.

`build_app` wires, in start order (aiohttp `cleanup_ctx`, each under a typed `AppKey`):

1. the ACD core (agents from the config, logged out until they log in or their phone says so),
   and the web room (`hotline.web.setup`: accounts, API routes, pages, live events),
2. the IVR menu registry (menus from `ivr.menus`; a broken menu refuses the start),
3. the ACD's event log on a Redis Stream (`state`, when it has a `url`; docs/state.md),
4. the case store (`store`; schema checked, orphaned calls closed, writer subscribed), then
   the service process (`service`, `messaging`, `smtp`: routing, escalation, customer
   messages; docs/service.md) and the first-run check (no admin yet: a one-time setup link),
5. the speech recognizer (`speech`; models loaded once, off the event loop),
6. the Asterisk adapter (`asterisk`, unless `enabled: false`),
7. the Twilio webhooks (`twilio`, when `enabled: true`).

Tests call `build_app` with their own clock, store URL and Twilio HTTP client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from aiohttp import web
from twilio.http import AsyncHttpClient

from acd.clock import AsyncioClock, Clock
from acd.engine import Acd
from casestore.settings import store_settings
from casestore.store import attached_store
from hotline.config import ConfigError, HotlineConfig
from hotline.customer_directory import StoreDirectory
from hotline.service_process.wiring import service_cleanup_ctx
from hotline.web.base.keys import ACD_KEY, CONFIG_KEY, EMERGENCY_KEY, STORE_KEY
from hotline.web.calls.routes import RECORDING_CONTROLS_KEY, setup_recording_controls
from hotline.web.emergency.service import emergency_ctx
from hotline.web.menus.service import MENU_FILES_KEY, MENUS_KEY, load_menu_files
from hotline.web.setup import setup_web
from hotline.web.wallboard.routes import WALLBOARD_KEY
from hotline.web.wallboard.service import alerts_ctx
from ivr.emergency import EmergencyState
from ivr.registry import MenuRegistry
from ivr.settings import IvrConfigError, parse_ivr_settings
from state.errors import StateConfigError
from state.service import state_cleanup_ctx
from state.settings import parse_state_settings

log = logging.getLogger("hotline")

__all__ = ["STORE_KEY", "build_acd", "build_app"]


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


def _enabled(section: Mapping[str, Any], default: bool) -> tuple[bool, dict[str, Any]]:
    """Split the wiring-level `enabled:` switch from an adapter's own settings."""
    rest = dict(section)
    flag = rest.pop("enabled", default)
    if not isinstance(flag, bool):
        raise ConfigError("'enabled' must be true or false")
    return flag, rest


def build_app(
    config: HotlineConfig,
    *,
    clock: Clock | None = None,
    store_url: str | None = None,
    twilio_http_client: AsyncHttpClient | None = None,
    speech: bool = True,
    asterisk: bool = True,
    announce: Callable[[str], None] | None = None,
) -> web.Application:
    clock = clock or AsyncioClock()
    app = web.Application(client_max_size=1024 * 1024)
    app[CONFIG_KEY] = config
    acd = app[ACD_KEY] = build_acd(config, clock)
    emergency = app[EMERGENCY_KEY] = EmergencyState()
    room = setup_web(app, config, acd, clock.now, announce=announce)
    setup_recording_controls(app)

    try:
        ivr_config = parse_ivr_settings(config.section("ivr"))
    except IvrConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from exc
    registry = MenuRegistry(clock, queues=[q.name for q in config.queues])
    load_menu_files(registry, [config.resolve(p) for p in ivr_config.menus])
    app[MENUS_KEY] = registry
    app[MENU_FILES_KEY] = [config.resolve(p) for p in ivr_config.menus]

    try:
        state_conf = parse_state_settings(config.section("state"))
    except StateConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from exc
    if state_conf is not None:  # the ACD's events to a Redis Stream (docs/state.md)
        app.cleanup_ctx.append(state_cleanup_ctx(state_conf, acd))

    settings = store_settings(config, store_url)

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        async with attached_store(settings, acd, clock=clock.now) as store:
            app[STORE_KEY] = store
            yield

    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(emergency_ctx)  # the stored emergency override (survives restarts)
    app.cleanup_ctx.append(alerts_ctx(app[WALLBOARD_KEY]))  # wallboard alerts, checked periodically
    # the service process after the call: needs the store (docs/service.md)
    app.cleanup_ctx.append(service_cleanup_ctx(config, clock, twilio_http_client=twilio_http_client))
    if room.first_run_ctx is not None:  # needs the store: no admin yet -> one-time setup link
        app.cleanup_ctx.append(room.first_run_ctx)

    from speech.service import SPEECH_KEY, speech_cleanup_ctx, speech_settings

    speech_conf = speech_settings(config) if speech else None
    if speech_conf is not None:
        app.cleanup_ctx.append(speech_cleanup_ctx(speech_conf))

    def recognizer(app: web.Application) -> Any:
        return app.get(SPEECH_KEY)

    asterisk_on, asterisk_raw = _enabled(config.section("asterisk"), bool(config.section("asterisk")))
    if asterisk_on and asterisk:
        from asterisk.service import AsteriskService, cleanup_ctx
        from asterisk.settings import parse_settings

        asterisk_settings = parse_settings(asterisk_raw, base=config.resolve("."))

        def asterisk_service(app: web.Application) -> AsteriskService:
            store = app[STORE_KEY]
            return AsteriskService(
                asterisk_settings, acd, registry, clock=clock, recognizer=recognizer(app),
                writer=store.writer_instance, recordings=store.recordings,
                directory=StoreDirectory(store.cases), emergency=emergency,
                ivr_settings=ivr_config.run,
            )

        app.cleanup_ctx.append(cleanup_ctx(asterisk_service))

        async def asterisk_recordings(app: web.Application) -> AsyncIterator[None]:
            from asterisk.service import ASTERISK_KEY

            app[RECORDING_CONTROLS_KEY]["asterisk"] = app[ASTERISK_KEY]
            yield

        app.cleanup_ctx.append(asterisk_recordings)

    twilio_on, twilio_raw = _enabled(config.section("twilio"), False)
    if twilio_on:
        from twilio_gateway.app import setup_twilio
        from twilio_gateway.settings import parse_twilio_settings

        setup_twilio(
            app, parse_twilio_settings(twilio_raw), acd, registry,
            recognizer=recognizer, writer=lambda app: app[STORE_KEY].writer_instance,
            recordings=lambda app: app[STORE_KEY].recordings,
            http_client=twilio_http_client, clock=clock, emergency=emergency,
            directory=lambda app: StoreDirectory(app[STORE_KEY].cases), ivr_config=ivr_config,
        )
    return app
