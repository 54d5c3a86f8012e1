"""The emergency override (mass disruption: storms, cancellations): read it, switch it on or
off (staff), audited."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hotline.roles import ALL_ROLES, STAFF
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import EMERGENCY_KEY
from hotline.web.emergency.service import switch
from ivr.emergency import EmergencyState

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
    summary="Switch the emergency override on or off (stored: it survives a restart)",
    invalid_code="bad_emergency", errors=(400,),
)
async def set_emergency(call: ApiCall[EmergencyIn, None]) -> EmergencyOut:
    app = call.request.app
    await switch(app, call.principal, call.body.active, call.body.announcement, call.body.scope)
    return EmergencyOut.of(app[EMERGENCY_KEY])
