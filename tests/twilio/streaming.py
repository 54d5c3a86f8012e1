"""Plays a mu-law clip into the server's Media Stream endpoint the way Twilio does."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

from .fakes import ACCOUNT, TOKEN

SPEECH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


def clip(name: str) -> bytes:
    return (SPEECH_FIXTURES / name).read_bytes()


def media_messages(sid: str, step: int, audio: bytes) -> Iterator[str]:
    yield json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    yield json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": "MZ" + "1" * 32,
        "start": {
            "streamSid": "MZ" + "1" * 32, "accountSid": ACCOUNT, "callSid": sid,
            "tracks": ["inbound"], "customParameters": {"call": sid, "step": str(step)},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    })
    for i in range(0, len(audio), 160):
        yield json.dumps({
            "event": "media", "sequenceNumber": str(i // 160 + 2), "streamSid": "MZ" + "1" * 32,
            "media": {"track": "inbound", "chunk": str(i // 160 + 1), "timestamp": str(i // 8),
                      "payload": base64.b64encode(audio[i : i + 160]).decode()},
        })


async def stream_audio(
    session: aiohttp.ClientSession, base: str, sid: str, step: int, audio: bytes,
    *, digits: str = "",
) -> int:
    """Send the stream (then `digits` as dtmf events, then 3 s of silence) until the server
    closes it; returns how many media frames it took."""
    url = base.replace("http://", "ws://").rstrip("/") + "/twilio/stream"
    signature = RequestValidator(TOKEN).compute_signature("wss://hotline.example.com/twilio/stream", {})
    sent = 0
    tail = b"\xff" * 160 * 150
    async with session.ws_connect(url, headers={"X-Twilio-Signature": signature}) as ws:
        messages = list(media_messages(sid, step, audio))
        messages += [json.dumps({"event": "dtmf", "streamSid": "MZ", "dtmf": {"digit": d}}) for d in digits]
        messages += list(media_messages(sid, step, tail))[2:]
        for text in messages:
            if ws.closed:
                break
            try:
                await ws.send_str(text)
            except (ConnectionError, aiohttp.ClientError):
                break
            sent += '"media"' in text
        msg = await ws.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    return sent
