"""Training windows for the body generator: `window` frames every `stride` frames of each clip, as arrays
ready for batching (motion features, rhythm, audio, speaker)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import UserError
from .beat2 import BodyClip
from .config import NeuralBodyConfig
from .features import motion_to_parts, rhythm_features


@dataclass
class WindowSet:
    """All training windows of some clips, as arrays ready for batching.

    motion (W, window, D) features of the config's parts concatenated; rhythm (W, window, 2);
    audio (W, window·16000/30) float32; speaker (W,) int64.
    """

    motion: np.ndarray
    rhythm: np.ndarray
    audio: np.ndarray
    speaker: np.ndarray


def window_starts(n_frames: int, window: int, stride: int) -> list[int]:
    return list(range(0, n_frames - window + 1, stride)) if n_frames >= window else []


def samples_per_window(config: NeuralBodyConfig) -> int:
    return int(round(config.window * config.sample_rate / config.fps))


def audio_span(samples: np.ndarray, start_frame: int, n_frames: int, config: NeuralBodyConfig) -> np.ndarray:
    """Audio samples of frames [start, start + n) (zero-padded past the end). → (n·16000/30,) float32"""
    per = config.sample_rate / config.fps
    a = int(round(start_frame * per))
    n = int(round(n_frames * per))
    out = np.zeros(n, np.float32)
    piece = np.asarray(samples[a:a + n], np.float32)
    out[:len(piece)] = piece
    return out


def build_windows(clips: list[BodyClip], config: NeuralBodyConfig) -> WindowSet:
    motion, rhythm, audio, speaker = [], [], [], []
    for clip in clips:
        parts = motion_to_parts(clip.poses, clip.trans, clip.expressions, config.fps, config.parts)
        feats = np.concatenate([parts[p] for p in config.parts], axis=1)
        rh = rhythm_features(clip.audio, clip.n_frames, config.fps)
        for s in window_starts(clip.n_frames, config.window, config.stride):
            motion.append(feats[s:s + config.window])
            rhythm.append(rh[s:s + config.window])
            audio.append(audio_span(clip.audio, s, config.window, config))
            speaker.append(min(clip.speaker, config.transformer.speakers - 1))
    if not motion:
        raise UserError(f"no clip is at least {config.window} frames long ({config.window / config.fps:.1f} s)")
    return WindowSet(np.stack(motion).astype(np.float32), np.stack(rhythm), np.stack(audio),
                     np.asarray(speaker, np.int64))
