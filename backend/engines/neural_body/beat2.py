"""Training clips from BEAT2-layout folders.

A BEAT2-layout folder holds, anywhere below it, one SMPL-X motion npz per clip (BEAT2: `smplxflame_30/`)
and a wav with the same stem (BEAT2: `wave16k/`), optionally a Praat TextGrid with the same stem
(BEAT2: `textgrid/`). The speaker id is the leading integer of the stem (`2_scott_0_1_1` → 2), else 0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import UserError
from ...formats.motion_npz import read_motion_npz
from ...vocabulary.rates import AUDIO_RATE, MOTION_FPS


@dataclass
class BodyClip:
    """One recording with its motion. poses (T,55,3) axis-angle; trans (T,3); expressions (T,100);
    audio (N,) float32 16 kHz mono; words [(start s, end s, word)] from a TextGrid when there is one."""

    name: str
    speaker: int
    poses: np.ndarray
    trans: np.ndarray
    expressions: np.ndarray
    audio: np.ndarray
    words: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(len(self.poses))


def read_textgrid_words(path: Path) -> list[tuple[float, float, str]]:
    """Non-empty word intervals (start, end, text) of the first interval tier of a Praat TextGrid."""
    text = path.read_text(encoding="utf-8", errors="replace")
    words = []
    for m in re.finditer(r'xmin\s*=\s*([\d.]+)\s*xmax\s*=\s*([\d.]+)\s*text\s*=\s*"([^"]*)"', text):
        if m.group(3).strip():
            words.append((float(m.group(1)), float(m.group(2)), m.group(3).strip()))
    return words


def speaker_of(stem: str) -> int:
    m = re.match(r"(\d+)_", stem)
    return int(m.group(1)) if m else 0


def read_beat2_folder(root: str | Path, limit: int | None = None) -> list[BodyClip]:
    """Every (npz, audio) pair with the same stem below `root`, sorted by name."""
    from ...audio.io import load_audio

    root = Path(root)
    if not root.is_dir():
        raise UserError(f"training data folder not found: {root}")
    audio = {p.stem: p for ext in ("wav", "flac", "ogg") for p in root.rglob(f"*.{ext}")}
    grids = {p.stem: p for p in root.rglob("*.TextGrid")}
    clips = []
    for npz in sorted(root.rglob("*.npz"), key=lambda p: p.stem):
        if npz.stem not in audio:
            continue
        motion = read_motion_npz(npz)
        if motion.fps != MOTION_FPS:
            raise UserError(f"{npz.name}: motion must be {MOTION_FPS} fps (got {motion.fps}); resample it first")
        samples = load_audio(audio[npz.stem]).samples
        n = min(motion.n_frames, int(len(samples) * MOTION_FPS // AUDIO_RATE))
        words = read_textgrid_words(grids[npz.stem]) if npz.stem in grids else []
        clips.append(BodyClip(npz.stem, speaker_of(npz.stem), motion.poses[:n], motion.trans[:n],
                              motion.expressions[:n], samples[:int(n * AUDIO_RATE / MOTION_FPS)], words))
        if limit is not None and len(clips) >= limit:
            break
    if not clips:
        raise UserError(f"no (motion .npz, audio) pairs with matching names found under {root}")
    return clips
