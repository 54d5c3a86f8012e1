"""Recordings: fetch the media Twilio announces in a recording status callback, store it,
link it to the call record.

Twilio's own `HttpClient` returns text, not bytes, so media goes through a small fetcher of
our own (`MediaFetcher`: one method; `AiohttpFetcher` in production, any local server in
tests). Only URLs on `recording_hosts` are fetched, with the account's credentials.
"""

from __future__ import annotations

import logging
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from recordings.registry import RecordingRegistry
from recordings.store import RecordingError, RecordingInfo
from twilio_gateway.errors import RecordingDownloadError
from twilio_gateway.settings import TwilioSettings

log = logging.getLogger("hotline.twilio")

MAX_RECORDING_BYTES = 512 * 1024 * 1024


class MediaFetcher(Protocol):
    async def fetch(self, url: str, auth: tuple[str, str]) -> bytes:
        """GET `url` with basic auth; raise RecordingDownloadError on any failure."""
        ...


class RecordingSaver(Protocol):
    """What we need of the recording store (`recordings.store.FilesystemRecordingStore`)."""

    async def save(self, call_id: str, data: bytes, format: str = "wav") -> RecordingInfo: ...


class AiohttpFetcher:
    def __init__(self, session: aiohttp.ClientSession, *, timeout: float = 60.0) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def fetch(self, url: str, auth: tuple[str, str]) -> bytes:
        try:
            headers = {"Authorization": aiohttp.encode_basic_auth(*auth)}
            async with self.session.get(url, headers=headers, timeout=self.timeout) as response:
                if response.status != 200:
                    body = (await response.text(errors="replace"))[:500]
                    raise RecordingDownloadError(
                        f"GET {url}: HTTP {response.status}", {"status": response.status, "body": body}
                    )
                if (response.content_length or 0) > MAX_RECORDING_BYTES:
                    raise RecordingDownloadError(f"GET {url}: {response.content_length} bytes is too large")
                data = await response.content.read(MAX_RECORDING_BYTES + 1)
                if len(data) > MAX_RECORDING_BYTES:
                    raise RecordingDownloadError(f"GET {url}: recording too large")
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RecordingDownloadError(f"GET {url}: {exc!r}") from exc


def media_url(settings: TwilioSettings, recording_url: str) -> str:
    """The media URL of a recording (`RecordingUrl` + `.wav`), if it is on an allowed host."""
    parts = urlsplit(recording_url)
    if parts.scheme not in ("https", "http") or parts.hostname not in settings.recording_hosts:
        raise RecordingDownloadError(f"recording URL on a host not allowed: {parts.hostname!r}")
    return f"{recording_url}.{settings.recording_format}"


async def download_recording(
    settings: TwilioSettings,
    fetcher: MediaFetcher,
    store: RecordingSaver,
    registry: RecordingRegistry | None,
    call_id: str,
    recording_url: str,
) -> RecordingInfo:
    url = media_url(settings, recording_url)
    data = await fetcher.fetch(url, (settings.account_sid, settings.auth_token))
    if not data:
        raise RecordingDownloadError(f"GET {url}: empty recording")
    try:
        info = await store.save(call_id, data, settings.recording_format)
    except (RecordingError, OSError) as exc:
        raise RecordingDownloadError(f"storing the recording of {call_id} failed: {exc}") from exc
    if registry is not None:
        registry.record_recording(call_id, info)
    log.info("twilio call %s: recording stored as %s (%d bytes)", call_id, info.uri, info.size)
    return info
