"""`live --record DIR`: keep what was performed, and at the end write it as a take like generated ones.

DIR/live.wav is the audio heard (16 kHz mono); DIR/motion.npz etc. are written by the generate pipeline on
that audio (the built-in body engine performs the body, as for any take) with the face replaced by the live
ARKit curves and the head joint turned by the live head on top of the body's own head motion, so the
Blender side keys it with the one take writer (apply_takes) and the take is what the viewer saw.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..vocabulary.rates import AUDIO_RATE
from .face import LiveFrame

HEAD_JOINT = 15   # SMPL-X head; local x = nod (+ = down), y = turn to the left, z = tilt


class Recorder:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        import soundfile as sf

        self._wav = sf.SoundFile(self.folder / "live.wav", "w", AUDIO_RATE, 1, "PCM_16")
        self._weights: list[np.ndarray] = []
        self._head: list[np.ndarray] = []

    def audio(self, block: np.ndarray) -> None:
        self._wav.write(np.asarray(block, np.float32))

    def frame(self, frame: LiveFrame) -> None:
        self._weights.append(frame.weights)
        self._head.append(frame.head)

    def finish(self, seed: int, emotion: str, intensity: float) -> dict | None:
        """Write the take; returns generate's summary (None when nothing was heard)."""
        from scipy.spatial.transform import Rotation

        from ..options import GenerateOptions
        from ..generation.pipeline import generate, write_generation

        self._wav.close()
        if len(self._weights) < 2:
            return None
        options = GenerateOptions(seed=seed, emotion=emotion, intensity=intensity)
        gen = generate(self.folder / "live.wav", options)
        perf = gen.takes[0]
        n = perf.arkit.shape[0]
        live = np.stack(self._weights).astype(np.float32)
        head = np.stack(self._head).astype(np.float64)
        m = min(n, len(live))
        perf.arkit[:m] = live[:m]
        perf.arkit[m:] = live[m - 1]
        body_head = Rotation.from_rotvec(perf.poses[:m, HEAD_JOINT].astype(np.float64))
        live_head = Rotation.from_euler("YXZ", head[:m][:, [1, 0, 2]])
        perf.poses[:m, HEAD_JOINT] = (body_head * live_head).as_rotvec().astype(np.float32)
        return write_generation(gen, self.folder, options)
