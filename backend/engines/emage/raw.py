"""`generate --engine emage --raw`: the network's own result, written as the official code writes it.

poses (T, 165) axis-angle with EMAGE's jaw and zero eyes, expressions (T, 100), trans (T, 3) from the
global-motion net integrated from the origin, betas (300,) zeros, model 'smplx2020', gender 'neutral',
mocap_frame_rate 30 — the keys and values of `beat_format_save` (emage_utils/motion_io.py), nothing
grounded, limited or blended, so the file can be compared with the official code's output on the same
weights and 16 kHz audio.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...fileio import atomic_write
from ...vocabulary.rates import MOTION_FPS

NUM_BETAS = 300


def official_arrays(decoded: dict) -> dict[str, np.ndarray]:
    """EmageModel.decode output → the arrays of the official output npz."""
    poses = decoded["axis_angle"][0].detach().cpu().numpy().astype(np.float32)
    return dict(betas=np.zeros(NUM_BETAS, np.float32), poses=poses,
                expressions=decoded["expression"][0].detach().cpu().numpy().astype(np.float32),
                trans=decoded["trans"][0].detach().cpu().numpy().astype(np.float32),
                model=np.array("smplx2020"), gender=np.array("neutral"), mocap_frame_rate=np.array(MOTION_FPS))


def write_official_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    path = Path(path)
    with atomic_write(path, binary=True) as fh:
        np.savez(fh, **arrays)
    return path
