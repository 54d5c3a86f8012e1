"""The emergency override (mass disruption: storms, cancellations): read it, switch it on or
off (staff), audited."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from hotline.roles import ALL_ROLES, STAFF
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import ACD_KEY, EMERGENCY_KEY, WEB_KEY
from ivr.emergency import EmergencyState

log = logging.getLogger("hotline.api")
routes = ApiRegistry()


class EmergencyOut(BaseModel):
    """The emergency override now."""

    active: bool
    announcement: dict[str, str]
    since: float | None
    by: str
    scope: list[str]

    @classmethod
    def of(cls, state: EmergencyState) -> EmergencyOut:
        current = state.current()
        return cls(
            active=current.active, announcement=dict(current.announcement), since=current.since,
            by=current.by, scope=sorted(current.scope),
        )


class EmergencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    active: bool
    announcement: dict[str, str] = Field(
        default_factory=dict, description="language -> text played to callers"
    )
    scope: list[str] = Field(default_factory=list, description="emergency node names (empty: all)")


@routes.get(
    "/api/emergency", roles=ALL_ROLES, response=EmergencyOut, tag="emergency",
    summary="The emergency override",
)
async def get_emergency(call: ApiCall[None, None]) -> EmergencyOut:
    return EmergencyOut.of(call.request.app[EMERGENCY_KEY])


@routes.post(
    "/api/emergency", roles=STAFF, body=EmergencyIn, response=EmergencyOut, tag="emergency",
    summary="Switch the emergency override on or off", invalid_code="bad_emergency",
)
async def set_emergency(call: ApiCall[EmergencyIn, None]) -> EmergencyOut:
    who = call.principal
    app = call.request.app
    state = app[EMERGENCY_KEY]
    before = EmergencyOut.of(state)
    if not call.body.active:
        state.clear()
    else:
        state.activate(
            app[ACD_KEY].clock.now(), who.agent_id or who.actor, call.body.announcement,
            frozenset(call.body.scope),
        )
    after = EmergencyOut.of(state)
    log.warning("emergency override %s by %s", "ON" if call.body.active else "off", who.actor)
    await app[WEB_KEY].accounts.repo.record(
        actor_of(who), "emergency.set", "emergency",
        before=before.model_dump(mode="json"), after=after.model_dump(mode="json"),
    )
    return after
