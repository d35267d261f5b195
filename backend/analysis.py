"""What the engines know about a speech recording (the contract between audio analysis and engines).

Everything frame-based is at MOTION_FPS (30 fps) and has exactly `n_frames` rows, so engines never
resample. Times are in seconds from the start of the audio.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .vocabulary.rates import MOTION_FPS


@dataclass(frozen=True)
class Phone:
    label: str          # ARPAbet without stress digit, upper case ('AA', 'P', …) or 'SIL'
    start: float        # seconds
    end: float          # seconds
    stress: int = -1    # 0/1/2 lexical stress for vowels when known (from a dictionary), else -1
    word: str = ""      # the word this phone belongs to, when known


def phone_frames(phone: Phone, fps: int, n_frames: int) -> np.ndarray:
    """Frame indices (K,) covered by a phone, clipped to 0..n_frames-1 (empty if it lies outside): the frames
    whose 1/fps display interval overlaps it (frame k shows time k/fps ± half a frame), and always at least
    the frame nearest its centre."""
    first = int(np.ceil(phone.start * fps - 0.5))
    last = int(np.floor(phone.end * fps + 0.5))
    centre = int(round(0.5 * (phone.start + phone.end) * fps))
    first, last = min(first, centre), max(last, centre)
    first, last = max(first, 0), min(last, n_frames - 1)
    return np.arange(first, last + 1)


@dataclass
class SpeechAnalysis:
    """Features of one recording.

    Shapes (T = n_frames at 30 fps):
      loudness (T,) float32   0..1, perceptual loudness relative to this clip's speech level
      speech (T,) bool        voice activity (someone is speaking)
      voiced (T,) bool        periodic voicing
      f0 (T,) float32         fundamental frequency in Hz, 0 where unvoiced
      onset_strength (T,) float32  0..1 spectral-flux onset envelope
      formants (T, 2) float32 F1, F2 in Hz where voiced (0 elsewhere); drive the acoustic mouth
      fricative (T,) float32  0..1 high-frequency noise share (s, sh, f, th…)
      onsets (N,) float64     onset times
      pitch_accents (K,) float64 times of pitch accents; accent_strength (K,) 0..1
      stresses (S,) float64   times of stressed syllable nuclei; stress_strength (S,) 0..1
      segments list[(start, end)] speech phrases separated by pauses
      phones list[Phone]      time-ordered, covering speech; empty when no phone timing is known
      phone_source            'transcript' (forced alignment of the transcript, wholly or in part) |
                              'recognized' | 'acoustic' (no phones)
      phone_spans             [(start, end, method)]: how the phones of each stretch were found,
                              method 'forced alignment' | 'word recognition' | 'phone recognition'
      phone_confidence        0..1 for recognized phones (1 for transcript alignment, 0 for acoustic)
      samples (N,) float32    the analysed audio, 16 kHz mono, for engines that read the waveform
    """

    duration: float
    n_frames: int
    loudness: np.ndarray
    speech: np.ndarray
    voiced: np.ndarray
    f0: np.ndarray
    onset_strength: np.ndarray
    formants: np.ndarray
    fricative: np.ndarray
    onsets: np.ndarray
    pitch_accents: np.ndarray
    accent_strength: np.ndarray
    stresses: np.ndarray
    stress_strength: np.ndarray
    segments: list[tuple[float, float]]
    phones: list[Phone]
    phone_source: str
    phone_confidence: float
    language: str = "en"
    warnings: list[str] = field(default_factory=list)
    fps: int = MOTION_FPS
    phone_spans: list[tuple[float, float, str]] = field(default_factory=list)
    samples: np.ndarray | None = None  # (N,) float32 16 kHz mono audio, for engines that read the waveform

    def frame_of(self, seconds: float) -> int:
        """Nearest frame index for a time, clamped to the clip."""
        return int(min(max(round(seconds * self.fps), 0), self.n_frames - 1))
