"""Wiring: `setup_twilio` adds the Twilio webhooks to Hotline's aiohttp application.

    setup_twilio(app, settings, acd, registry, recognizer, writer, recordings, clock=clock)

adds the routes under `settings.path_prefix` and a cleanup context that, on startup, builds
the REST client (an `AsyncTwilioHttpClient` unless `http_client` is given), the media
fetcher (an aiohttp session unless `fetcher` is given) and the `TwilioGateway`
(subscribed to the ACD), and on shutdown closes them after ending calls in the IVR.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import TypeAlias, TypeVar

import aiohttp
from aiohttp import web
from twilio.http import AsyncHttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient

from acd.clock import AsyncioClock, Clock
from acd.engine import Acd
from hotline.ports import CallRecorder
from ivr.channel import ChannelError
from ivr.directory import CustomerDirectory
from ivr.emergency import EmergencyState
from ivr.events import IvrEvent, IvrOutcome
from ivr.interpreter import IvrSettings, run_menu
from ivr.menu import Menu
from ivr.registry import MenuRegistry
from ivr.settings import IvrConfig
from ivr.speech import Recognizer
from twilio_gateway.acd_ops import AcdOps
from twilio_gateway.channel import TwilioChannel
from twilio_gateway.conference_routes import add_conference_routes
from twilio_gateway.errors import TwilioSettingsError
from twilio_gateway.gateway import IvrRunner, TwilioGateway
from twilio_gateway.recording import AiohttpFetcher, MediaFetcher, RecordingSaver
from twilio_gateway.rest import TwilioCalls
from twilio_gateway.routes import CHECKER_KEY, GATEWAY_KEY, add_routes
from twilio_gateway.settings import TwilioSettings
from twilio_gateway.signature import SignatureChecker

REST_TIMEOUT = 10.0


class MenuRunner:
    """Runs the active menu of the dialled number: `twilio.numbers`, else the `ivr:` section's
    numbers and default menu, else `twilio.menu`, else the only menu loaded. The menu is
    taken once per run, so a reload never changes a call in progress."""

    def __init__(
        self,
        registry: MenuRegistry,
        settings: TwilioSettings,
        clock: Clock,
        *,
        directory: CustomerDirectory | None = None,
        emergency: EmergencyState | None = None,
        ivr_config: IvrConfig | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.directory = directory
        self.emergency = emergency
        self.ivr_config = ivr_config

    def menu(self, dialed: str | None) -> Menu | None:
        name = self.settings.numbers.get(dialed or "")
        if not name and self.ivr_config is not None:
            name = self.ivr_config.menu_for(dialed)
        name = name or self.settings.menu
        names = self.registry.names()
        if not name and len(names) == 1:
            name = names[0]
        return self.registry.active(name) if name else None

    def has_entry(self, channel: TwilioChannel, entry: str) -> bool:
        menu = self.menu(channel.dialed)
        return menu is not None and entry in menu.entries

    async def __call__(
        self, channel: TwilioChannel, on_event: Callable[[IvrEvent], None], start: str | None = None
    ) -> IvrOutcome:
        menu = self.menu(channel.dialed)
        if menu is None:
            raise ChannelError(f"no active menu for dialled number {channel.dialed!r}")
        return await run_menu(
            menu,
            channel,
            clock=self.clock,
            directory=self.directory,
            emergency=self.emergency,
            on_event=on_event,
            settings=self.ivr_config.run if self.ivr_config is not None else IvrSettings(),
            language=channel.language or None,
            start=start,
        )


T = TypeVar("T")
# An object, or a function of the application giving it once the app has started (for objects
# that earlier cleanup contexts build: the store's writer, the speech recognizer...).
Provided: TypeAlias = T | Callable[[web.Application], T]


def _resolve(value: Provided[T], app: web.Application) -> T:
    if inspect.isfunction(value) or inspect.ismethod(value):
        return value(app)
    return value  # type: ignore[return-value]


def setup_twilio(
    app: web.Application,
    settings: TwilioSettings | None,
    acd: Acd,
    registry: MenuRegistry | IvrRunner,
    recognizer: Provided[Recognizer | None] = None,
    writer: Provided[CallRecorder | None] = None,
    recordings: Provided[RecordingSaver | None] = None,
    http_client: AsyncHttpClient | None = None,
    *,
    clock: Clock | None = None,
    fetcher: MediaFetcher | None = None,
    directory: Provided[CustomerDirectory | None] = None,
    emergency: EmergencyState | None = None,
    ivr_config: IvrConfig | None = None,
    on_ivr_event: Callable[[IvrEvent], None] | None = None,
    acting: Callable[[], bool] | None = None,
    ops: Callable[[web.Application], AcdOps] | None = None,
) -> None:
    """Add the Twilio webhooks and Media Stream endpoint to `app` (before it starts).

    `registry` is the MenuRegistry (or any IvrRunner); `writer` (a `hotline.ports.CallRecorder`
    such as `casestore.CallWriter`; its ACD subscription is wired elsewhere) receives each
    call's start, its IVR events and its recordings;
    `on_ivr_event` gets every IVR event too (logs, metrics). `recognizer`, `writer`,
    `recordings` and `directory` may be given as functions of the app, called when the app
    starts (after the cleanup contexts added before this one). `acting` and `ops`: a cluster
    node's (hotline/cluster_twilio.py): whether it runs the ACD now, and where the ACD's
    operations of a webhook run (on the leader, through Redis, when it does not)."""
    if settings is None:
        raise TwilioSettingsError("twilio: the section is empty")
    clock = clock or acd.clock or AsyncioClock()
    app[CHECKER_KEY] = SignatureChecker(settings)
    add_routes(app, settings.path_prefix)
    add_conference_routes(app, settings.path_prefix)

    async def gateway_ctx(app: web.Application) -> AsyncIterator[None]:
        runner = (
            MenuRunner(registry, settings, clock, directory=_resolve(directory, app),
                       emergency=emergency, ivr_config=ivr_config)
            if isinstance(registry, MenuRegistry) else registry
        )
        sink: CallRecorder | None = _resolve(writer, app)
        async with contextlib.AsyncExitStack() as stack:
            client = http_client
            if client is None:
                owned = AsyncTwilioHttpClient(timeout=REST_TIMEOUT)
                stack.push_async_callback(owned.close)
                client = owned
            media = fetcher
            if media is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
                media = AiohttpFetcher(session)
            gateway = TwilioGateway(
                settings,
                acd,
                ivr=runner,
                calls=TwilioCalls(settings, client, timeout=REST_TIMEOUT),
                clock=clock,
                recognizer=_resolve(recognizer, app),
                recorder=sink,
                recordings=_resolve(recordings, app),
                registry=sink,
                fetcher=media,
                on_ivr_event=on_ivr_event,
                acting=acting or (lambda: True),
                ops=ops(app) if ops is not None else None,
            )
            app[GATEWAY_KEY] = gateway
            try:
                yield
            finally:
                await gateway.close()

    app.cleanup_ctx.append(gateway_ctx)
