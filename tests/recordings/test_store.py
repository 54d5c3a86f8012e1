from __future__ import annotations

import hashlib
import io
import wave
from pathlib import Path

import pytest

from recordings import (
    FilesystemRecordingStore,
    RecordingError,
    RecordingInfo,
    RecordingNotFound,
    store_recording,
)
from recordings.store import YEAR

NOW = 1_795_000_000.0


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()


class FakeRegistry:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, RecordingInfo]] = []

    def record_recording(self, call_id: str, info: RecordingInfo) -> None:
        self.recorded.append((call_id, info))


@pytest.fixture
def store(tmp_path: Path) -> FilesystemRecordingStore:
    return FilesystemRecordingStore(tmp_path / "rec", retention_years=3, clock=lambda: NOW)


async def test_save_read_verify_delete(store: FilesystemRecordingStore) -> None:
    data = wav_bytes(2.5)
    info = await store.save("call-7", data, "wav")
    assert info.uri.startswith("rec:2026/11/18/call-7-") and info.uri.endswith(".wav")
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.duration == pytest.approx(2.5)
    assert info.retain_until == pytest.approx(NOW + 3 * YEAR)
    assert await store.read(info.uri) == data
    with store.open(info.uri) as f:
        assert f.read(4) == b"RIFF"
    assert await store.verify(info)
    store.path(info.uri).write_bytes(data[:-2] + b"xx")  # tampered
    assert not await store.verify(info)
    assert await store.delete(info.uri) is True
    assert await store.delete(info.uri) is False
    assert not await store.verify(info)
    with pytest.raises(RecordingNotFound):
        store.open(info.uri)


async def test_import_moves_an_external_file_and_registers_it(store: FilesystemRecordingStore, tmp_path: Path) -> None:
    source = tmp_path / "mixmonitor-1700.wav"
    source.write_bytes(wav_bytes(1.0))
    registry = FakeRegistry()
    info = await store_recording(store, registry, "1700.42", source, move=True)
    assert not source.exists()
    assert store.path(info.uri).is_file()
    assert registry.recorded == [("1700.42", info)]
    assert info.format == "wav" and info.duration == pytest.approx(1.0)
    raw = await store_recording(store, registry, "twilio/CA123", b"ID3mp3data", format="mp3")
    assert raw.duration is None and "/" not in raw.uri.split("/")[-1].replace("rec:", "")
    assert len(registry.recorded) == 2


async def test_bad_uris_formats_and_missing_sources_are_refused(store: FilesystemRecordingStore, tmp_path: Path) -> None:
    for uri in ("rec:../../etc/passwd", "rec:/etc/passwd", "file:///etc/passwd"):
        with pytest.raises(RecordingError):
            store.path(uri)
    with pytest.raises(RecordingError):
        await store.save("c1", b"data", "../wav")
    with pytest.raises(RecordingNotFound):
        await store.import_file("c1", tmp_path / "nope.wav")
    assert not any((tmp_path / "rec").rglob(".part-*"))
