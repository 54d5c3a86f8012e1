"""The IVR editor's API (admins): check and draw a draft, stored versions and their texts, the
diff of two versions, a test call on a draft. Publishing is `POST /api/menus` and activating
(rolling back to any version) `POST /api/menus/{name}/activate` (hotline/web/menus)."""

from __future__ import annotations

from typing import Any

from casestore.menus import NoSuchMenu, StoredMenu
from hotline.ivr_trial import TrialCall, TrialError, parse_time, press
from hotline.roles import Role
from hotline.web.base.api import ApiCall, ApiRegistry, RawBody
from hotline.web.base.errors import ApiError
from hotline.web.ivr_editor import service
from hotline.web.ivr_editor.schemas import (
    DiffOut,
    DiffQuery,
    DiffRowOut,
    DraftOut,
    GraphEdgeOut,
    GraphNodeOut,
    StoredVersionOut,
    TryIn,
    TryOut,
    VersionsOut,
    VersionTextOut,
)
from hotline.web.menus.routes import Issue
from hotline.web.menus.service import MAX_MENU_BYTES
from ivr.scripted import Action, HangUp, Say, Silence

ADMIN = frozenset({Role.ADMIN})
routes = ApiRegistry()


def draft_out(draft: service.Draft) -> DraftOut:
    graph = draft.graph
    return DraftOut(
        ok=draft.result.ok, menu=draft.result.menu.name if draft.result.menu else None,
        issues=[Issue.model_validate(i) for i in service.issues_view(draft.result)],
        error_nodes=draft.error_nodes,
        nodes=[GraphNodeOut(id=n.id, kind=n.kind, detail=n.detail, error=n.error, line=draft.node_lines.get(n.id))
               for n in (graph.nodes.values() if graph else [])],
        edges=[GraphEdgeOut(source=e.source, target=e.target, label=e.label, kind=e.kind)
               for e in (graph.edges if graph else [])],
        svg=draft.svg,
    )


def version_out(v: StoredMenu, active: int | None) -> StoredVersionOut:
    return StoredVersionOut(version=v.version, sha256=v.digest, source=v.source, author=v.author,
                            message=v.message, created_at=v.created_at, active=v.version == active)


def _version(call: ApiCall[Any, Any]) -> int:
    raw = call.params["version"]
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError(400, "bad_version", f"version {raw[:20]!r} is not a number")
    return int(raw)


@routes.post(
    "/api/menus/draft", roles=ADMIN, response=DraftOut, tag="ivr editor",
    raw_body=RawBody("application/yaml", MAX_MENU_BYTES, "a draft menu as UTF-8 YAML text"),
    summary="Check and draw a draft menu (nothing is stored)",
)
async def check_draft(call: ApiCall[None, None]) -> DraftOut:
    """The same checker as `hotline ivr check` (with the ACD's queues); YAML parsing, checking
    and drawing run off the event loop. Errors and warnings carry their line and node."""
    return draft_out(await service.inspect(call.request.app, call.text))


@routes.get(
    "/api/menus/{name}/versions", roles=ADMIN, response=VersionsOut, tag="ivr editor",
    summary="Stored versions of a menu: author, message, time, which is active", errors=(404,),
)
async def menu_versions(call: ApiCall[None, None]) -> VersionsOut:
    name = call.params["name"]
    try:
        active, stored = await service.versions(call.request.app, name)
    except NoSuchMenu as exc:
        raise ApiError(404, "no_such_menu", str(exc), menu=name) from exc
    return VersionsOut(name=name, active_version=active, versions=[version_out(v, active) for v in stored])


@routes.get(
    "/api/menus/{name}/versions/{version}", roles=ADMIN, response=VersionTextOut, tag="ivr editor",
    summary="One stored version with its text", errors=(400, 404),
)
async def menu_version(call: ApiCall[None, None]) -> VersionTextOut:
    name, number = call.params["name"], _version(call)
    try:
        active, _ = await service.versions(call.request.app, name)
        v = await service.version_text(call.request.app, name, number)
    except NoSuchMenu as exc:
        raise ApiError(404, "no_such_version", str(exc), menu=name, version=number) from exc
    return VersionTextOut(name=name, text=v.text, **version_out(v, active).model_dump())


@routes.get(
    "/api/menus/{name}/diff", roles=ADMIN, query=DiffQuery, response=DiffOut, tag="ivr editor",
    summary="The difference between two stored versions (`?from=1&to=3`)", errors=(404,),
)
async def menu_diff(call: ApiCall[None, DiffQuery]) -> DiffOut:
    d = await service.diff(call.request.app, call.params["name"], call.query.old, call.query.new)
    return DiffOut(name=d.name, from_version=d.old, to_version=d.new, unified=d.unified,
                   rows=[DiffRowOut(kind=r.kind, old_line=r.old_line, old=r.old, new_line=r.new_line,
                                    new=r.new) for r in d.rows])


def caller_actions(body: TryIn) -> tuple[Action, ...]:
    actions: list[Action] = []
    for a in body.actions:
        if a.kind == "dtmf":
            actions.append(press(a.value))
        elif a.kind == "say":
            actions.append(Say(a.value, a.confidence))
        elif a.kind == "silence":
            actions.append(Silence())
        else:
            actions.append(HangUp())
    return tuple(actions)


def trial_call(body: TryIn) -> TrialCall:
    """The test call of a request (400 `bad_call` for bad keys or time)."""
    try:
        return TrialCall(
            actions=caller_actions(body), at=parse_time(body.at, body.timezone) if body.at else None,
            language=body.language or None, start=body.start or None, caller=body.caller or None,
            tier=body.tier or None, customer_language=body.customer_language or None,
            emergency=body.emergency, pause_when_done=body.pause,
        )
    except TrialError as exc:
        raise ApiError(400, "bad_call", str(exc)) from exc


@routes.post(
    "/api/menus/try", roles=ADMIN, body=TryIn, response=TryOut, tag="ivr editor",
    summary="A test call on a draft with the real interpreter", errors=(400, 422),
    json_limit=3 * MAX_MENU_BYTES,
)
async def try_draft(call: ApiCall[TryIn, None]) -> TryOut:
    """Walks the draft as `hotline ivr try` does (same code): keys, phrases, silence, hang-up
    in order; `at` (with `timezone`) for hours branches; an emergency switch of its own. With
    `pause` (default) it stops at the first question after the last action. 422
    `menu_has_errors` (with the issues) when the draft does not pass the checker."""
    report = await service.trial(call.request.app, call.body.text, trial_call(call.body))
    return TryOut.model_validate(report)
