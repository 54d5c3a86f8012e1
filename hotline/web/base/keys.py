"""Typed keys of the web room: what the wiring puts on the application, and what the security
middleware puts on each request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from acd.engine import Acd
from casestore.accounts import SessionView
from casestore.store import Store
from hotline.config import HotlineConfig
from hotline.roles import Principal
from ivr.emergency import EmergencyState

if TYPE_CHECKING:
    from hotline.web.base.room import WebRoom

ACD_KEY = web.AppKey("acd", Acd)
CONFIG_KEY = web.AppKey("config", HotlineConfig)
EMERGENCY_KEY = web.AppKey("emergency", EmergencyState)
STORE_KEY = web.AppKey("store", Store)
# Runs an ACD operation by name where the ACD lives (`state.mode: cluster`: on the leader;
# set by `hotline.cluster`). Absent: this node's ACD.
AcdCommand = Callable[..., Awaitable[None]]
ACD_COMMAND_KEY: web.AppKey[AcdCommand] = web.AppKey("acd_command")
WEB_KEY: web.AppKey[WebRoom] = web.AppKey("web_room")

PRINCIPAL = web.RequestKey("principal", Principal)
SESSION = web.RequestKey("session", SessionView)
