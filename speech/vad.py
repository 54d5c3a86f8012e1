"""Energy-based voice activity: when speech starts (barge-in) and when it has ended.

Sans-io: feed 16-bit PCM of any length, it is cut into 20 ms frames. The noise floor follows
the quietest recent frames (down at once, up slowly), so steady line noise is not speech;
a frame is voiced when it is `margin_db` above the floor and above `min_db` (dBFS).
Speech starts after `start_frames` voiced frames in a row of which `pitched_frames` are
periodic at a voice pitch (70-400 Hz: autocorrelation peak of the last 40 ms at least
`pitch_threshold`), so a door slam or a burst of line noise does not count as a caller
barging in; it has ended after `end_silence` seconds of unvoiced frames following a start.

The floor starts at `initial_floor_db` (or the first frame, if quieter), not at the first
frame: a caller already talking when the stream starts would otherwise set the floor at
their own voice and never be heard. Before speech starts, energetic frames without pitch
(steady line noise louder than the initial floor) let the floor rise, so noise still
becomes the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class VadSettings:
    sample_rate: int = 8000
    frame_ms: int = 20
    margin_db: float = 12.0
    min_db: float = -50.0
    start_frames: int = 4  # 80 ms of voice before speech counts as started
    end_silence: float = 0.25
    floor_rise_db: float = 0.5  # per frame, while unvoiced
    pitched_frames: int = 2  # 0: energy alone starts speech
    pitch_threshold: float = 0.5  # espeak-ng voices: 0.5-1.0 on vowels; noise: 0.1-0.25
    initial_floor_db: float = -55.0  # assumed line noise before the first quiet frame


def frame_db(pcm: bytes) -> float:
    """Energy of a 16-bit PCM frame in dB relative to full scale (silence: -100)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if x.size == 0:
        return -100.0
    power = float(np.dot(x, x)) / x.size / (32768.0 * 32768.0)
    return max(-100.0, 10.0 * float(np.log10(power + 1e-10)))


def periodicity(x: npt.NDArray[np.float64], sample_rate: int = 8000) -> float:
    """Peak normalised autocorrelation at pitch lags (70-400 Hz): near 1 for a vowel,
    near 0.15 for noise."""
    low, high = sample_rate // 400, sample_rate // 70
    n = x.size
    if n <= high + low:
        return 0.0
    x = x - x.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[: high + 1]
    if ac[0] <= 0.0:
        return 0.0
    lags = np.arange(low, high + 1)
    return float(np.max(ac[low : high + 1] / ac[0] * n / (n - lags)))


class EnergyVad:
    def __init__(self, settings: VadSettings = VadSettings(), floor: float | None = None) -> None:
        self.settings = settings
        self.frame_bytes = settings.sample_rate * settings.frame_ms // 1000 * 2
        self._end_frames = max(1, round(settings.end_silence * 1000 / settings.frame_ms))
        self._pending = b""
        self._floor = floor
        self._run = 0  # voiced frames in a row
        self._pitched = 0  # periodic frames in that run
        self._previous = np.zeros(0)  # the frame before, for a 40 ms pitch window
        self._quiet = 0  # unvoiced frames in a row since the last voiced one
        self.frames = 0  # frames seen
        self.started_at: int | None = None  # frame index where speech started
        self.last_voiced: int | None = None  # frame index of the last voiced frame
        self.ended = False

    @property
    def speech_started(self) -> bool:
        return self.started_at is not None

    @property
    def noise_floor(self) -> float | None:
        return self._floor

    @property
    def trailing_silence(self) -> float:
        """Seconds of audio since the last voiced frame (0 if none yet)."""
        if self.last_voiced is None:
            return 0.0
        return (self.frames - 1 - self.last_voiced) * self.settings.frame_ms / 1000

    def feed(self, pcm: bytes) -> bool:
        """Process audio; True once the end of speech has been detected."""
        data = self._pending + pcm
        whole = len(data) - len(data) % self.frame_bytes
        self._pending = data[whole:]
        for i in range(0, whole, self.frame_bytes):
            self._frame(data[i : i + self.frame_bytes])
        return self.ended

    def _frame(self, pcm: bytes) -> None:
        s = self.settings
        db = frame_db(pcm)
        index = self.frames
        self.frames += 1
        if self._floor is None:
            self._floor = min(db, s.initial_floor_db)
        voiced = db >= max(self._floor + s.margin_db, s.min_db)
        previous = self._previous
        if self.started_at is None:  # pitch only matters until speech has started
            samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
            self._previous = samples
            if voiced and s.pitched_frames:
                window = np.concatenate([previous, samples])
                if periodicity(window, s.sample_rate) >= s.pitch_threshold:
                    self._pitched += 1
                else:  # loud but not a voice: steady noise lifts the floor
                    self._floor = min(db, self._floor + s.floor_rise_db)
        if voiced:
            self._run += 1
            self._quiet = 0
            if (
                self.started_at is None
                and self._run >= s.start_frames
                and self._pitched >= s.pitched_frames
            ):
                self.started_at = index - self._run + 1
            if self.started_at is not None:
                self.last_voiced = index
            return
        self._run = 0
        self._pitched = 0
        self._floor = db if db < self._floor else min(db, self._floor + s.floor_rise_db)
        if self.started_at is not None and not self.ended:
            self._quiet += 1
            if self._quiet >= self._end_frames:
                self.ended = True
