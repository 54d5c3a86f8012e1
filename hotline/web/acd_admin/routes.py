"""Queues and agents over the API: list (admins and supervisors), save a new version, disable
an agent, history, diff, rollback (admins). Every change is stored as a version and audited
(casestore/acd_config.py, in the same transaction) and applied to the running ACD."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from casestore.acd_config import NoSuchVersion
from hotline.acd_config import InvalidItem, diff
from hotline.roles import STAFF, Role
from hotline.web.accounts.service import actor_of
from hotline.web.acd_admin.schemas import (
    AcdDiffOut,
    AcdDiffQuery,
    AcdDisableIn,
    AcdInvalidOut,
    AcdItemIn,
    AcdItemsOut,
    AcdProblemOut,
    AcdRollbackIn,
    AcdVersionOut,
    AcdVersionsOut,
)
from hotline.web.acd_admin.service import ACD_CONFIG_KEY
from hotline.web.base.api import ApiCall, ApiRegistry, Status
from hotline.web.base.errors import ApiError

ADMIN = frozenset({Role.ADMIN})
routes = ApiRegistry()
KINDS = {"queue": "queues", "agent": "agents"}


def invalid(exc: InvalidItem) -> Status:
    return Status(422, AcdInvalidOut(message=str(exc), problems=[AcdProblemOut(key=p.key, message=p.message)
                                                              for p in exc.problems]))


def _register(kind: str, plural: str) -> None:
    base = f"/api/admin/{plural}"
    param = "{name}"

    async def list_items(call: ApiCall[None, None]) -> AcdItemsOut:
        items = await call.request.app[ACD_CONFIG_KEY].items(kind)
        return AcdItemsOut(items=[AcdVersionOut.of(v) for v in items])

    async def save_item(call: ApiCall[AcdItemIn, None]) -> Status:
        live = call.request.app[ACD_CONFIG_KEY]
        try:
            saved = await live.edit(actor_of(call.principal), kind, call.body.item, message=call.body.message)
        except InvalidItem as exc:
            return invalid(exc)
        return Status(200, AcdVersionOut.of(saved))

    async def versions(call: ApiCall[None, None]) -> AcdVersionsOut:
        try:
            found = await call.request.app[ACD_CONFIG_KEY].store.versions(kind, call.params["name"])
        except NoSuchVersion as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        return AcdVersionsOut(versions=[AcdVersionOut.of(v) for v in found])

    async def diff_versions(call: ApiCall[None, AcdDiffQuery]) -> AcdDiffOut:
        store = call.request.app[ACD_CONFIG_KEY].store
        try:
            older = await store.get(kind, call.params["name"], call.query.a)
            newer = await store.get(kind, call.params["name"], call.query.b)
        except NoSuchVersion as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        return AcdDiffOut(diff=diff(older, newer))

    async def rollback(call: ApiCall[AcdRollbackIn, None]) -> Status:
        live = call.request.app[ACD_CONFIG_KEY]
        try:
            saved = await live.rollback(actor_of(call.principal), kind, call.params["name"], call.body.version)
        except NoSuchVersion as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        except InvalidItem as exc:  # e.g. its overflow target is gone
            return invalid(exc)
        return Status(200, AcdVersionOut.of(saved))

    title = kind.capitalize()
    add = routes.get(base, roles=STAFF, response=AcdItemsOut, tag="admin", summary=f"{title}s as the ACD runs them")
    add(_named(list_items, f"list_{plural}"))
    add = routes.post(base, roles=ADMIN, body=AcdItemIn, response=AcdVersionOut, tag="admin",
                      summary=f"Add a {kind} or save a new version of it (applied live)",
                      invalid_code="bad_item", extra_statuses={422: AcdInvalidOut})
    add(_named(save_item, f"save_{kind}"))
    add = routes.get(f"{base}/{param}/versions", roles=STAFF, response=AcdVersionsOut, tag="admin",
                     summary=f"Every version of a {kind}", errors=(404,))
    add(_named(versions, f"{kind}_versions"))
    add = routes.get(f"{base}/{param}/diff", roles=STAFF, query=AcdDiffQuery, response=AcdDiffOut, tag="admin",
                     summary=f"Diff of two versions of a {kind}", errors=(404,))
    add(_named(diff_versions, f"{kind}_diff"))
    add = routes.post(f"{base}/{param}/rollback", roles=ADMIN, body=AcdRollbackIn, response=AcdVersionOut, tag="admin",
                      summary=f"Make an older version of a {kind} the running one (a new version)",
                      errors=(404,), invalid_code="bad_version", extra_statuses={422: AcdInvalidOut})
    add(_named(rollback, f"rollback_{kind}"))


def _named(fn: Callable[[Any], Awaitable[Any]], name: str) -> Callable[[Any], Awaitable[Any]]:
    fn.__name__ = fn.__qualname__ = name
    return fn


for _kind, _plural in KINDS.items():
    _register(_kind, _plural)


@routes.post("/api/admin/agents/{name}/disabled", roles=ADMIN, body=AcdDisableIn, response=AcdVersionOut, tag="admin",
             summary="Disable an agent (logged out once its calls are over, cannot log in) or enable it",
             errors=(404,), invalid_code="bad_request")
async def set_disabled(call: ApiCall[AcdDisableIn, None]) -> AcdVersionOut:
    live = call.request.app[ACD_CONFIG_KEY]
    name = call.params["name"]
    current = (await live.store.current()).get(("agent", name))
    if current is None:
        raise ApiError(404, "not_found", f"no agent {name!r}")
    action = "agent.disable" if call.body.disabled else "agent.enable"
    saved = await live.edit(actor_of(call.principal), "agent", {**current.data, "disabled": call.body.disabled},
                            message=call.body.message, action=action)
    return AcdVersionOut.of(saved)
