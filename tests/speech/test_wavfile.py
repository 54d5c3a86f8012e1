"""WAV reading (speech.wavfile, speech.alaw): parsed from bytes; cross-checked with sox."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hotline.commands.ivr import _UsageError, read_audio
from speech.alaw import alaw_to_pcm16
from speech.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from speech.wavfile import ALAW, EXTENSIBLE, MULAW, PCM, WavError, parse_wav, read_wav_bytes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "speech" / "kw_hwanbul_ko_175.ulaw"


def wav(tag: int, channels: int, rate: int, bits: int, samples: bytes, *, extensible: bool = False,
        extra: bytes = b"") -> bytes:
    if extensible:
        fmt = struct.pack("<HHIIHHHHIH14s", EXTENSIBLE, channels, rate, rate * channels * bits // 8,
                          channels * bits // 8, bits, 22, bits, 0, tag, b"\x00" * 14)
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * bits // 8,
                          channels * bits // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def reference_alaw2linear(a: int) -> int:
    """g711.c alaw2linear, transcribed."""
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t += 8 if seg == 0 else 0x108
    if seg > 1:
        t <<= seg - 1
    return t if a & 0x80 else -t


def test_alaw_table_matches_the_reference_decoder() -> None:
    pcm = np.frombuffer(alaw_to_pcm16(bytes(range(256))), dtype="<i2").tolist()
    assert pcm == [reference_alaw2linear(a) for a in range(256)]
    assert pcm[0xD5] == 8 and pcm[0x55] == -8 and max(pcm) == 32256 and min(pcm) == -32256


def test_mulaw_and_alaw_wav_decode_like_raw_g711() -> None:
    ulaw = FIXTURE.read_bytes()[:8000]
    assert read_wav_bytes(wav(MULAW, 1, 8000, 8, ulaw)) == ulaw_to_pcm16(ulaw)
    assert read_wav_bytes(wav(ALAW, 1, 8000, 8, ulaw, extensible=True)) == alaw_to_pcm16(ulaw)
    info, data = parse_wav(wav(MULAW, 1, 8000, 8, ulaw, extra=b"LIST" + struct.pack("<I", 3) + b"abc\x00"))
    assert info.encoding == MULAW and data == ulaw  # odd-sized chunk before data is skipped


def test_stereo_16k_pcm_is_mixed_and_resampled() -> None:
    tone = (np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 8000).astype("<i2")
    stereo = np.repeat(tone, 2).tobytes()
    out = np.frombuffer(read_wav_bytes(wav(PCM, 2, 16000, 16, stereo)), dtype="<i2")
    assert len(out) == 8000 and abs(int(out.max()) - 8000) < 50


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"RIFX0000WAVE", "not a RIFF/WAVE"),
        (wav(3, 1, 8000, 32, b"\x00" * 8), "unsupported WAV encoding 3"),
        (wav(PCM, 1, 8000, 8, b"\x00" * 8), "only 16-bit PCM"),
        (wav(MULAW, 1, 8000, 16, b"\x00" * 8), "needs 8 bits"),
        (wav(PCM, 1, 8000, 16, b"")[:36], "no data chunk"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(WavError, match=message):
        parse_wav(data)


@pytest.mark.parametrize("encoding", ["u-law", "a-law", "signed-integer"])
def test_files_written_by_sox_are_read(tmp_path: Path, encoding: str) -> None:
    sox = shutil.which("sox")
    assert sox is not None, "sox is a Debian dependency of the test suite (.ci/services)"
    original = ulaw_to_pcm16(FIXTURE.read_bytes())
    raw = tmp_path / "in.raw"
    raw.write_bytes(original)
    out = tmp_path / f"{encoding}.wav"
    bits = "16" if encoding == "signed-integer" else "8"
    subprocess.run([sox, "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", str(raw),
                    "-e", encoding, "-b", bits, str(out)], check=True)
    pcm = np.frombuffer(read_audio(str(out)), dtype="<i2").astype(float)
    ref = np.frombuffer(original, dtype="<i2").astype(float)
    assert len(pcm) == len(ref)
    # G.711 re-quantisation only: the signal is kept to within a few percent of its level.
    assert np.sqrt(np.mean((pcm - ref) ** 2)) < 0.06 * np.sqrt(np.mean(ref**2))


def test_the_cli_reader_names_the_file_on_errors(tmp_path: Path) -> None:
    bad = tmp_path / "answer.wav"
    bad.write_bytes(wav(3, 1, 8000, 32, b"\x00" * 8))
    with pytest.raises(_UsageError, match=r"answer\.wav: unsupported WAV encoding 3"):
        read_audio(str(bad))
    raw = tmp_path / "answer.alaw"
    raw.write_bytes(pcm16_to_ulaw(b"\x00\x00" * 4))
    assert len(read_audio(str(raw))) == 8
