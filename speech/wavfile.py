"""WAV files as a call recording or a test answer: 16-bit PCM, G.711 mu-law or A-law, any
rate, mono or stereo -> 8 kHz 16-bit mono PCM for the recognizer. Sans-io: parses bytes.

Python's `wave` module reads only integer PCM (format 1); mu-law (7) and A-law (6) WAVs, as
Asterisk, sox and telephone systems write them, need this parser. WAVE_FORMAT_EXTENSIBLE is
read through its sub-format.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from speech.alaw import alaw_to_pcm16
from speech.mulaw import ulaw_to_pcm16

PCM, ALAW, MULAW, EXTENSIBLE = 1, 6, 7, 0xFFFE
NAMES = {PCM: "PCM", ALAW: "A-law", MULAW: "mu-law"}


class WavError(ValueError):
    """Not a WAV file this reader handles (the message says why)."""


@dataclass(frozen=True, slots=True)
class WavInfo:
    encoding: int  # PCM, ALAW or MULAW
    channels: int
    rate: int
    bits: int


def parse_wav(data: bytes) -> tuple[WavInfo, bytes]:
    """The format and the raw sample bytes of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    info: WavInfo | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk == b"fmt ":
            if len(body) < 16:
                raise WavError("fmt chunk too short")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == EXTENSIBLE:
                if len(body) < 26:
                    raise WavError("extensible fmt chunk too short")
                tag = struct.unpack_from("<H", body, 24)[0]
            if tag not in NAMES:
                raise WavError(f"unsupported WAV encoding {tag} (PCM, mu-law and A-law are read)")
            if channels < 1 or rate < 1:
                raise WavError(f"bad WAV format: {channels} channels at {rate} Hz")
            if tag == PCM and bits != 16:
                raise WavError(f"only 16-bit PCM WAV is read (got {bits}-bit)")
            if tag != PCM and bits != 8:
                raise WavError(f"{NAMES[tag]} WAV needs 8 bits a sample (got {bits})")
            info = WavInfo(tag, channels, rate, bits)
        elif chunk == b"data":
            if info is None:
                raise WavError("data chunk before the fmt chunk")
            return info, body
        pos += 8 + size + (size & 1)
    raise WavError("no fmt/data chunk" if info is None else "no data chunk")


def to_pcm8k(info: WavInfo, samples: bytes, rate: int = 8000) -> bytes:
    """Decode to 16-bit PCM, mix to mono, resample (linear) to `rate`."""
    if info.encoding == MULAW:
        pcm = ulaw_to_pcm16(samples)
    elif info.encoding == ALAW:
        pcm = alaw_to_pcm16(samples)
    else:
        pcm = samples[: len(samples) - len(samples) % 2]
    frame = info.channels
    x = np.frombuffer(pcm, dtype="<i2")
    x = x[: len(x) - len(x) % frame].reshape(-1, frame).mean(axis=1)
    if info.rate != rate and len(x):
        n = round(len(x) * rate / info.rate)
        x = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x)
    out: bytes = np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()
    return out


def read_wav_bytes(data: bytes) -> bytes:
    info, samples = parse_wav(data)
    return to_pcm8k(info, samples)
