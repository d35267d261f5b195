"""Load any audio file soundfile can read as 16 kHz mono float32, block by block.

Long files are read in blocks (never whole as float64) and resampled with a polyphase
anti-alias filter; blocks overlap by the filter's reach so the result equals resampling the
whole file at once (no seams).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioError
from ..progress import JobControl
from ..vocabulary.rates import AUDIO_RATE as TARGET_RATE

BLOCK_SECONDS = 10.0          # source audio per read; bounds memory and cancel latency
KAISER_BETA = 5.0             # same anti-alias design as scipy's resample_poly default
# Header sanity, checked before any sample is read (issue 19): a header saying 1 Hz meant 3.4e9 output
# samples and 12.7 h of resampling; 44,101 Hz a 16000/44101 filter 65x slower than 44,100 Hz.
MIN_RATE, MAX_RATE = 4000, 768000
MAX_SECONDS = 4 * 3600.0      # longer recordings: split them (or use batch)
MIN_SECONDS = 0.1             # three frames at 30 fps; a 0.5 ms file was "animated" as one frame
MAX_FILTER_TAPS = 20001       # rational resampling filters longer than this are refused (odd rates)
# Float recordings above full scale are scaled down to peak 1 (not clipped: recognition needs the
# waveform); peaks above this are not a recording (1e20..1e30 overflowed the spectra to NaN).
MAX_FLOAT_PEAK = 1e4


@dataclass(frozen=True)
class LoadedAudio:
    samples: np.ndarray      # (N,) float32 mono at 16 kHz, range about -1..1
    sample_rate: int         # always 16000
    source_rate: int
    source_channels: int
    source_format: str       # e.g. 'WAV PCM_24', 'OGG VORBIS', 'MP3'
    gain: float = 1.0        # < 1 when a float recording above full scale was scaled down to peak 1

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True)
class PolyphaseResampler:
    """Rational resampling by up/down with one fixed linear-phase low-pass FIR (odd length)."""

    up: int
    down: int
    taps: np.ndarray   # (2 * half_len + 1,) float64

    @property
    def half_len(self) -> int:
        return (len(self.taps) - 1) // 2

    @property
    def context(self) -> int:
        """Input samples of overlap each side of a block: covers the filter, multiple of `down`."""
        reach = self.half_len // self.up + 2
        return self.down * (-(-reach // self.down))

    def resample(self, x: np.ndarray) -> np.ndarray:
        """(n,) → (ceil(n * up / down),) float32; identity when up == down."""
        if self.up == self.down:
            return x.astype(np.float32, copy=False)
        return polyphase_resample(x, self.taps, self.up, self.down)


def kaiser_lowpass(numtaps: int, cutoff: float, beta: float = KAISER_BETA) -> np.ndarray:
    """Linear-phase low-pass FIR: windowed sinc, unit gain at DC. cutoff is a fraction of Nyquist.

    (numtaps,) float64 — the same design as scipy.signal.firwin(numtaps, cutoff, window=('kaiser', beta)).
    """
    m = np.arange(numtaps) - (numtaps - 1) / 2.0
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


def polyphase_resample(x: np.ndarray, taps: np.ndarray, up: int, down: int) -> np.ndarray:
    """Rational resampling through the odd-length linear-phase FIR `taps`, zero-padded at both ends.

    (n,) → (ceil(n * up / down),) float32. Output sample n sits at input time n·down/up, so the
    filter's delay is compensated exactly (the convention of scipy.signal.resample_poly).
    Output n reads the upsampled position m = n·down + half, i.e. input j = m // up − i through tap
    phase + i·up with phase = m mod up. Outputs n ≡ r (mod up) share one phase and step through the
    input by `down`, so each (phase, tap) pair is one strided multiply-add over whole arrays.
    """
    x = np.asarray(x, dtype=np.float32)
    n_in = len(x)
    n_out = -(-n_in * up // down)
    half = (len(taps) - 1) // 2
    h = np.asarray(taps, dtype=np.float64) * up
    n_taps = -(-len(h) // up)
    padded = np.concatenate([np.zeros(n_taps, np.float32), x, np.zeros(n_taps + down + 1, np.float32)])
    y = np.zeros(n_out, np.float32)
    for r in range(min(up, n_out)):
        count = len(range(r, n_out, up))
        m = r * down + half
        j_last, phase = divmod(m, up)
        out = np.zeros(count, np.float32)
        for i, coef in enumerate(h[phase::up]):
            start = j_last - i + n_taps
            out += np.float32(coef) * padded[start:start + down * count:down]
        y[r::up] = out
    return y


def make_resampler(source_rate: int, target_rate: int = TARGET_RATE) -> PolyphaseResampler:
    g = gcd(int(source_rate), int(target_rate))
    up, down = target_rate // g, source_rate // g
    max_rate = max(up, down)
    half_len = 10 * max_rate
    taps = kaiser_lowpass(2 * half_len + 1, 1.0 / max_rate) if up != down else np.ones(1)
    return PolyphaseResampler(up, down, taps)


def resample_blocks(read_block, n_in: int, resampler: PolyphaseResampler, block: int,
                    control: JobControl | None = None) -> np.ndarray:
    """Resample a long signal block-wise with overlap/discard, equal to resampling it whole.

    read_block(start, stop) -> (stop - start,) float32 mono input samples.
    `block` is rounded to a multiple of `down` so each block starts on an exact output sample.
    Returns (ceil(n_in * up / down),) float32.
    """
    up, down = resampler.up, resampler.down
    n_out = -(-n_in * up // down)
    if up == down:
        out = np.empty(n_in, np.float32)
        for a in range(0, n_in, block):
            if control is not None:
                control.report(a / max(n_in, 1), "loading audio")
            b = min(a + block, n_in)
            out[a:b] = read_block(a, b)
        return out
    block = max(down, block // down * down)
    ctx = resampler.context
    out = np.empty(n_out, np.float32)
    for a in range(0, n_in, block):
        if control is not None:
            control.report(a / max(n_in, 1), "loading audio")
        b = min(a + block, n_in)
        lo, hi = max(0, a - ctx), min(n_in, b + ctx)
        y = resampler.resample(read_block(lo, hi))
        first = (a - lo) * up // down          # exact: a and lo are multiples of down
        o0 = a * up // down
        o1 = n_out if b == n_in else b * up // down
        out[o0:o1] = y[first:first + (o1 - o0)]
    return out


def _format_name(info: sf.SoundFile) -> str:
    return "MP3" if info.format == "MP3" else f"{info.format} {info.subtype}"


class _SequentialMonoReader:
    """Serves overlapping [start, stop) mono requests while reading the file strictly forward.

    Compressed formats seek inexactly, so the overlap between consecutive blocks comes from
    a cache of the previous request instead of a seek.
    """

    def __init__(self, f: sf.SoundFile, name: str):
        self.f, self.name = f, name
        self.cache = np.zeros(0, np.float32)
        self.cache_start = 0

    def _read_forward(self, n: int, at: int) -> np.ndarray:
        rate, channels = self.f.samplerate, self.f.channels
        try:
            x = self.f.read(n, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"{self.name} is damaged at {at / rate:.1f} s ({exc}) — "
                             "re-export the recording") from None
        if len(x) < n:   # header promised more frames than the data holds: pad the tail
            x = np.concatenate([x, np.zeros((n - len(x), channels), np.float32)])
        mono = x[:, 0].copy() if channels == 1 else x.mean(axis=1, dtype=np.float32)
        if not np.isfinite(mono).all():
            raise AudioError(f"{self.name} contains NaN or infinite samples near "
                             f"{at / rate:.1f} s — re-export it as 16/24-bit PCM")
        return mono

    def read(self, start: int, stop: int) -> np.ndarray:
        cache_end = self.cache_start + len(self.cache)
        if start < self.cache_start or start > cache_end:
            raise ValueError("requests must move forward and overlap or touch the previous one")
        kept = self.cache[start - self.cache_start:]
        fresh = self._read_forward(stop - cache_end, cache_end) if stop > cache_end else np.zeros(0, np.float32)
        self.cache = np.concatenate([kept, fresh])[: stop - start]
        self.cache_start = start
        return self.cache


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"audio file not found: {path} — check the path")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file — pick a .wav/.flac/.ogg/.mp3 file")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {path} — re-export the recording")


def probe_audio(path) -> tuple[int, int]:
    """(frames, sample rate) from the header, after the same checks load_audio makes; raises AudioError.
    Cheap (no samples read): callers run it before loading engines so a damaged file fails in a second."""
    path = Path(os.fspath(path)).expanduser()
    _check_path(path)
    try:
        with _quiet_stderr():
            with sf.SoundFile(str(path)) as f:
                frames, rate = int(f.frames), int(f.samplerate)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return 0, 0  # load_audio gives the one-line reason
    if frames > 0 and rate > 0:
        check_header(path.name, frames, rate)
    return frames, rate


def load_audio(path, control: JobControl | None = None) -> LoadedAudio:
    """Read `path` (any soundfile format, rate, channel count) as 16 kHz mono float32.

    Raises AudioError with one actionable line for missing, empty, non-audio, corrupt or
    zero-length files and for NaN/inf samples.
    """
    path = Path(os.fspath(path)).expanduser()
    _check_path(path)
    try:
        with _quiet_stderr():  # libmpg123 prints its own guesses about non-MP3 data before our one line
            f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unknown reason"
        if "does not exist" in reason:  # libsndfile's words for data it cannot identify; the file is there
            reason = "not a known audio format"
        raise AudioError(f"cannot read {path.name} as audio ({reason}) — "
                         "use a WAV, FLAC, OGG or MP3 file") from None
    with f:
        n_in, rate, channels = int(f.frames), int(f.samplerate), int(f.channels)
        fmt = _format_name(f)
        if n_in <= 0 or rate <= 0:
            raise AudioError(f"{path.name} contains no audio samples — re-export the recording")
        check_header(path.name, n_in, rate)
        resampler = make_resampler(rate)
        reader = _SequentialMonoReader(f, path.name)
        read_block = reader.read
        block = max(int(BLOCK_SECONDS * rate), 1)
        samples = resample_blocks(read_block, n_in, resampler, block, control)
    samples, gain = _limit_peak(path.name, samples)
    if control is not None:
        control.report(1.0, "loading audio")
    return LoadedAudio(samples, TARGET_RATE, rate, channels, fmt, gain)


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C libraries writing to fd 2 for the duration (Python's own errors are raised, not printed)."""
    try:
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def check_header(name: str, frames: int, rate: int) -> None:
    """Refuse sample rates, lengths and rate ratios no recording has, before reading a sample."""
    if MIN_RATE <= rate <= MAX_RATE and frames / rate < MIN_SECONDS:
        raise AudioError(f"{name} is only {frames / rate * 1000:.1f} ms long — give at least "
                         f"{MIN_SECONDS * 1000:.0f} ms of speech")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"{name} says its sample rate is {rate} Hz; recordings are {MIN_RATE}–{MAX_RATE} Hz "
                         "— the header is damaged: re-export the recording")
    if frames / rate > MAX_SECONDS:
        raise AudioError(f"{name} is {frames / rate / 3600:.1f} h long (limit {MAX_SECONDS / 3600:.0f} h) — "
                         "split it into shorter files")
    g = gcd(rate, TARGET_RATE)
    if 20 * max(TARGET_RATE // g, rate // g) + 1 > MAX_FILTER_TAPS:
        raise AudioError(f"{name} has an unusual sample rate of {rate} Hz that cannot be resampled efficiently "
                         "— re-export it at 16, 22.05, 44.1 or 48 kHz")


def _limit_peak(name: str, samples: np.ndarray) -> tuple[np.ndarray, float]:
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if not np.isfinite(peak) or peak > MAX_FLOAT_PEAK:
        raise AudioError(f"{name} has sample values up to {peak:.3g} (full scale is 1) — it is not a usable "
                         "recording: re-export it as 16/24-bit PCM")
    if peak <= 1.0:
        return samples, 1.0
    return (samples / np.float32(peak)).astype(np.float32), 1.0 / peak
