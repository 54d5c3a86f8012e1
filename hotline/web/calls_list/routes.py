"""The calls API: past calls by number, time, queue, agent and outcome; one call with its IVR
path, collected values, recordings and case; a recording's audio for the roles that may hear
it (streamed from the recording store, audited)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from hotline.roles import ALL_ROLES, STAFF, Role
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import STORE_KEY, WEB_KEY
from hotline.web.cases.schemas import CallDetail, CallList, CallQuery
from hotline.web.cases.service import Viewer, call_detail, call_filter, call_out
from recordings.store import RecordingError

routes = ApiRegistry()
CHUNK = 64 * 1024
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "gsm": "audio/x-gsm"}


@routes.get(
    "/api/calls", roles=ALL_ROLES, query=CallQuery, response=CallList, tag="calls",
    summary="Past calls by number, time, queue, agent, outcome (agents: their own)",
)
async def list_calls(call: ApiCall[None, CallQuery]) -> CallList:
    work = call.request.app[STORE_KEY].casework
    viewer = Viewer.of(call.principal)
    rows = await work.calls(call_filter(call.query, call.principal))
    return CallList(calls=[call_out(viewer, r.call, r.case_number) for r in rows])


@routes.get(
    "/api/calls/{call_id}", roles=ALL_ROLES, response=CallDetail, tag="calls", errors=(403, 404),
    summary="One call: IVR path, collected values, recordings, its case (agents: their own)",
)
async def get_call(call: ApiCall[None, None]) -> CallDetail:
    who = call.principal
    detail, number = await call.request.app[STORE_KEY].casework.call(call.params["call_id"])
    if who.role is Role.AGENT and detail.call.agent_id != who.agent_id:
        raise ApiError(403, "forbidden", "agents may see only their own calls")
    return call_detail(Viewer.of(who), detail, number)


@routes.get(
    "/api/recordings/{recording_id}/audio", roles=STAFF, response=None, tag="calls", errors=(404,),
    stream="audio/wav", summary="A recording's audio (admins and supervisors; audited)",
)
async def recording_audio(call: ApiCall[None, None]) -> web.StreamResponse:
    raw = call.params["recording_id"]
    if not raw.isdigit():
        raise ApiError(404, "not_found", f"no recording {raw!r}")
    store = call.request.app[STORE_KEY]
    info = await store.casework.recording(int(raw))
    loop = asyncio.get_running_loop()
    try:
        handle = await loop.run_in_executor(None, store.recordings.open, info.uri)
    except RecordingError as exc:
        raise ApiError(404, "not_found", f"recording {info.id} is missing from the store") from exc
    await call.request.app[WEB_KEY].accounts.repo.record(
        actor_of(call.principal), "recording.listen", f"recording:{info.id}", after={"call_id": info.call_id},
    )
    try:
        # no Content-Length: the stored size is the file's, which differs from the audio's when
        # the recording is encrypted at rest (the store decrypts it on opening)
        response = web.StreamResponse(headers={
            "Content-Type": MEDIA_TYPES.get(info.format, "application/octet-stream"),
            "Cache-Control": "no-store",
        })
        await response.prepare(call.request)
        while chunk := await loop.run_in_executor(None, handle.read, CHUNK):
            await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        await loop.run_in_executor(None, handle.close)
