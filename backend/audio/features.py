"""Frame-level acoustic features of 16 kHz mono speech, computed in chunks (bounded memory).

Internal analysis runs at 100 frames/s (hop 160 samples, frames centred on k * hop);
`to_motion_rate` brings a 100 Hz track onto the 30 fps motion grid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft

from ..progress import JobControl
from ..vocabulary.rates import AUDIO_RATE as SR, MOTION_FPS
from .io import make_resampler

HOP = 160                      # 10 ms
FEATURE_RATE = SR // HOP       # 100 frames per second
N_FFT = 512
WIN = 400                      # 25 ms analysis window
F0_MIN, F0_MAX = 60.0, 500.0
YIN_RATE = 8000                # YIN runs on a 2x decimated signal: f0 ≤ 500 Hz needs no more
YIN_WIN = 200                  # YIN integration window (25 ms at 8 kHz)
YIN_THRESHOLD = 0.15
CHUNK_FRAMES = 3000            # 30 s of frames per chunk
DB_FLOOR = -120.0
HF_SPLIT_HZ = 3500.0           # fricative noise lives above this
NUCLEUS_BAND = (300.0, 2500.0)  # vowel energy band for syllable nuclei


def frame_count(n_samples: int, hop: int = HOP) -> int:
    """Number of centred frames covering n_samples."""
    return n_samples // hop + 1


def centered_frames(x: np.ndarray, k0: int, k1: int, frame_len: int, hop: int = HOP,
                    lead: int | None = None) -> np.ndarray:
    """Frames k0..k1-1 of x, frame k spanning [k*hop - lead, +frame_len), zero outside x.

    lead defaults to frame_len // 2 (frames centred on k * hop).
    x (N,) → (k1 - k0, frame_len) float32 (a copy).
    """
    lead = frame_len // 2 if lead is None else lead
    start = k0 * hop - lead
    stop = (k1 - 1) * hop - lead + frame_len
    seg = np.zeros(stop - start, np.float32)
    a, b = max(start, 0), min(stop, len(x))
    if b > a:
        seg[a - start:b - start] = x[a:b]
    return np.lib.stride_tricks.sliding_window_view(seg, frame_len)[::hop][: k1 - k0].copy()


def mel_filterbank(n_mels: int = 80, n_fft: int = N_FFT, sr: int = SR,
                   fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Triangular filters on the HTK mel scale, area-normalised. → (n_mels, n_fft//2 + 1)."""
    fmax = sr / 2 if fmax is None else fmax
    mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)
    hz = lambda m: 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)
    edges = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lo) / (mid - lo)
    down = (hi - freqs[None]) / (hi - mid)
    fb = np.maximum(0.0, np.minimum(up, down))
    fb *= (2.0 / (hi - lo))
    return fb.astype(np.float32)


def a_weighting(freqs: np.ndarray) -> np.ndarray:
    """IEC 61672 A-weighting as a power gain for each frequency (Hz). (F,) → (F,)."""
    f2 = np.asarray(freqs, np.float64) ** 2
    ra = (12194.0 ** 2 * f2 ** 2) / ((f2 + 20.6 ** 2) * np.sqrt((f2 + 107.7 ** 2) * (f2 + 737.9 ** 2))
                                      * (f2 + 12194.0 ** 2))
    gain_db = 20 * np.log10(np.maximum(ra, 1e-20)) + 2.0
    return (10.0 ** (gain_db / 10.0)).astype(np.float32)


_WINDOW = np.hanning(WIN + 2)[1:-1].astype(np.float32)
_FREQS = np.fft.rfftfreq(N_FFT, 1.0 / SR)


def power_spectrum(frames: np.ndarray) -> np.ndarray:
    """(n, WIN) → (n, N_FFT//2 + 1) float32 power of the Hann-windowed frames."""
    spec = np.fft.rfft(frames * _WINDOW, n=N_FFT, axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def log_mel(samples16k: np.ndarray, n_mels: int = 80, hop: int = HOP) -> np.ndarray:
    """Log-mel spectrogram (natural log of mel power + 1e-6) of 16 kHz audio.

    samples16k (N,) → (N // hop + 1, n_mels) float32, frame k centred at sample k * hop,
    25 ms Hann window, 512-point FFT, mel filters 0–8 kHz. Computed in chunks.
    """
    x = np.asarray(samples16k, np.float32)
    fb = mel_filterbank(n_mels)
    n = frame_count(len(x), hop)
    out = np.empty((n, n_mels), np.float32)
    for k0 in range(0, n, CHUNK_FRAMES):
        k1 = min(n, k0 + CHUNK_FRAMES)
        out[k0:k1] = np.log(power_spectrum(centered_frames(x, k0, k1, WIN, hop)) @ fb.T + 1e-6)
    return out


def yin(frames: np.ndarray, sr: int = YIN_RATE, fmin: float = F0_MIN, fmax: float = F0_MAX,
        win: int = YIN_WIN, threshold: float = YIN_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """YIN pitch estimate (de Cheveigné & Kawahara 2002) for a batch of frames.

    frames (n, win + max_lag) with max_lag = ceil(sr / fmin) → f0 (n,) Hz (0 where no
    period found), aperiodicity (n,) = cumulative-mean-normalised difference at the chosen lag
    (0 = perfectly periodic, ~1 = noise).
    """
    n, L = frames.shape
    min_lag, max_lag = int(sr // fmax), int(np.ceil(sr / fmin))
    assert L >= win + max_lag
    x = frames.astype(np.float64)
    nfft = 1 << int(np.ceil(np.log2(L + win)))
    # r(tau) = sum_j x[j] x[j + tau] for j < win, by FFT cross-correlation
    X = sfft.rfft(x, nfft, axis=1)
    H = sfft.rfft(x[:, :win], nfft, axis=1)
    r = sfft.irfft(X * np.conj(H), nfft, axis=1)[:, : max_lag + 1]
    sq = np.concatenate([np.zeros((n, 1)), np.cumsum(x * x, axis=1)], axis=1)
    lags = np.arange(max_lag + 1)
    e0 = sq[:, win][:, None]
    e_tau = sq[:, lags + win] - sq[:, lags]
    d = np.maximum(e0 + e_tau - 2.0 * r, 0.0)
    cum = np.cumsum(d[:, 1:], axis=1) / np.arange(1, max_lag + 1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] / np.maximum(cum, 1e-12)
    search = cmnd[:, min_lag:max_lag]
    below = search < threshold
    # first dip under the threshold, then walk to its local minimum; else the global minimum
    first = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    idx = first.copy()
    rows = np.arange(n)
    for _ in range(search.shape[1]):
        nxt = np.minimum(idx + 1, search.shape[1] - 1)
        step = (search[rows, nxt] < search[rows, idx]) & (nxt != idx)
        if not step.any():
            break
        idx = np.where(step, nxt, idx)
    tau = idx + min_lag
    # parabolic interpolation around the minimum
    a = cmnd[rows, np.maximum(tau - 1, 1)]
    b = cmnd[rows, tau]
    c = cmnd[rows, np.minimum(tau + 1, max_lag)]
    denom = a - 2 * b + c
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -1, 1)
    f0 = sr / period
    energy = e0[:, 0]
    aperiodicity = np.where(energy > 1e-10, b, 1.0)
    f0 = np.where((f0 >= fmin) & (f0 <= fmax) & (energy > 1e-10), f0, 0.0)
    return f0.astype(np.float32), aperiodicity.astype(np.float32)


def lpc_formants(frames: np.ndarray, sr: int = SR, order: int = 12) -> np.ndarray:
    """F1, F2 (Hz) of each frame by autocorrelation LPC and polynomial roots.

    frames (n, L) float → (n, 2) float32; 0 where fewer than two resonances were found.
    Speech is pre-emphasised and Hamming-windowed; resonances need 90 Hz < F < sr/2 - 50 Hz and
    bandwidth < 500 Hz.
    """
    n, L = frames.shape
    if n == 0:
        return np.zeros((0, 2), np.float32)
    x = frames.astype(np.float64)
    x = np.concatenate([x[:, :1], x[:, 1:] - 0.97 * x[:, :-1]], axis=1) * np.hamming(L)
    spec = np.fft.rfft(x, 2 * L, axis=1)
    r = np.fft.irfft(np.abs(spec) ** 2, 2 * L, axis=1)[:, : order + 1]
    r[:, 0] *= 1.0 + 1e-6           # white-noise correction keeps Levinson stable
    r[:, 0] += 1e-12
    # Levinson–Durbin, vectorised over frames
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = (a[:, :i] * r[:, i:0:-1]).sum(axis=1)
        k = -acc / err
        a_prev = a.copy()
        a[:, 1:i + 1] = a_prev[:, 1:i + 1] + k[:, None] * a_prev[:, i - 1::-1][:, :i]
        err = err * (1.0 - k * k)
    companion = np.zeros((n, order, order))
    companion[:, 0, :] = -a[:, 1:]
    companion[:, np.arange(1, order), np.arange(order - 1)] = 1.0
    roots = np.linalg.eigvals(companion)
    freq = np.angle(roots) * sr / (2 * np.pi)
    bw = -np.log(np.maximum(np.abs(roots), 1e-12)) * sr / np.pi
    ok = (roots.imag > 0) & (freq > 90.0) & (freq < sr / 2 - 50.0) & (bw < 500.0)
    cand = np.sort(np.where(ok, freq, np.inf), axis=1)[:, :2]
    out = np.where(np.isfinite(cand), cand, 0.0)
    out[out[:, 1] == 0] = 0.0
    return out.astype(np.float32)


@dataclass(frozen=True)
class FrameFeatures:
    """Per-10 ms tracks (K = frame_count(n_samples) rows each)."""

    level_db: np.ndarray      # (K,) A-weighted frame power, dBFS
    nucleus_db: np.ndarray    # (K,) power in the vowel band, dBFS
    hf_share: np.ndarray      # (K,) share of power above HF_SPLIT_HZ, 0..1
    flux: np.ndarray          # (K,) mean positive log-mel difference (spectral flux)
    f0: np.ndarray            # (K,) YIN f0 Hz, 0 where none
    aperiodicity: np.ndarray  # (K,) YIN aperiodicity at the chosen lag


def compute_frame_features(samples16k: np.ndarray, control: JobControl | None = None) -> FrameFeatures:
    """All 100 Hz tracks of a 16 kHz signal, chunk by chunk. (N,) → FrameFeatures."""
    x = np.asarray(samples16k, np.float32)
    n = frame_count(len(x))
    fb = mel_filterbank(40)
    aw = a_weighting(_FREQS)
    band = ((_FREQS >= NUCLEUS_BAND[0]) & (_FREQS <= NUCLEUS_BAND[1])).astype(np.float32)
    high = (_FREQS >= HF_SPLIT_HZ).astype(np.float32)
    # power of a full-scale sine through the window, so dB are relative to full scale
    ref = float((_WINDOW.sum() / 2) ** 2) * 2
    max_lag = int(np.ceil(YIN_RATE / F0_MIN))
    x8 = make_resampler(SR, YIN_RATE).resample(x)
    tracks = {k: np.empty(n, np.float32) for k in ("level_db", "nucleus_db", "hf_share", "flux", "f0", "aperiodicity")}
    prev_mel = None
    for k0 in range(0, n, CHUNK_FRAMES):
        if control is not None:
            control.report(k0 / n, "acoustic features")
        k1 = min(n, k0 + CHUNK_FRAMES)
        for s0 in range(k0, k1, 500):          # sub-chunks keep each step ≪ 0.2 s
            s1 = min(k1, s0 + 500)
            if control is not None:
                control.check()
            p = power_spectrum(centered_frames(x, s0, s1, WIN))
            total = p.sum(axis=1)
            tracks["level_db"][s0:s1] = 10 * np.log10((p @ aw) / ref + 1e-12)
            tracks["nucleus_db"][s0:s1] = 10 * np.log10((p @ band) / ref + 1e-12)
            tracks["hf_share"][s0:s1] = (p @ high) / np.maximum(total, 1e-12)
            mel = 10 * np.log10(p @ fb.T + 1e-10)
            mel = np.maximum(mel, -100.0)
            before = mel[:1] if prev_mel is None else prev_mel
            diff = np.diff(np.concatenate([before, mel]), axis=0)
            tracks["flux"][s0:s1] = np.maximum(diff, 0.0).mean(axis=1)
            prev_mel = mel[-1:]
            # YIN frames start at the analysis frame's centre minus half the integration window
            yf = centered_frames(x8, s0, s1, YIN_WIN + max_lag, HOP * YIN_RATE // SR, lead=YIN_WIN // 2)
            f0, ap = yin(yf)
            tracks["f0"][s0:s1] = f0
            tracks["aperiodicity"][s0:s1] = ap
    tracks["level_db"] = np.maximum(tracks["level_db"], DB_FLOOR)
    tracks["nucleus_db"] = np.maximum(tracks["nucleus_db"], DB_FLOOR)
    return FrameFeatures(**tracks)


def formants_at(samples16k: np.ndarray, times: np.ndarray, control: JobControl | None = None,
                win: int = WIN) -> np.ndarray:
    """F1, F2 of the 25 ms windows centred on `times` (s). (M,) → (M, 2) float32."""
    x = np.asarray(samples16k, np.float32)
    out = np.zeros((len(times), 2), np.float32)
    centres = np.round(np.asarray(times) * SR).astype(np.int64)
    for i0 in range(0, len(centres), 2000):
        if control is not None:
            control.check()
        c = centres[i0:i0 + 2000]
        idx = c[:, None] - win // 2 + np.arange(win)[None]
        valid = (idx >= 0) & (idx < len(x))
        frames = np.where(valid, x[np.clip(idx, 0, max(len(x) - 1, 0))], 0.0)
        out[i0:i0 + 2000] = lpc_formants(frames)
    return out


def to_motion_rate(track: np.ndarray, n_frames: int, fps: int = MOTION_FPS, rate: int = FEATURE_RATE,
                   smooth: bool = True) -> np.ndarray:
    """Resample a (K,) 100 Hz track (frame k at k / rate s) onto (n_frames,) at `fps`.

    With `smooth`, a box filter of one motion frame's length is applied first (anti-alias).
    """
    t = np.asarray(track, np.float64)
    if smooth and len(t) > 2:
        w = max(1, int(round(rate / fps)))
        kernel = np.ones(w) / w
        pad = np.pad(t, (w // 2, w - 1 - w // 2), mode="edge")
        t = np.convolve(pad, kernel, mode="valid")
    src = np.arange(len(t)) / rate
    dst = np.arange(n_frames) / fps
    return np.interp(dst, src, t).astype(np.float32)
