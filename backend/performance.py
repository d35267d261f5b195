"""One generated take: what the engines produce and the writers serialise."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .vocabulary.face import NUM_ARKIT
from .vocabulary.rates import MOTION_FPS
from .vocabulary.skeleton import NUM_JOINTS


@dataclass
class Performance:
    """A take at 30 fps.

    poses (T, 55, 3) float32  SMPL-X axis-angle per joint, relative to parent, in SMPL-X rest frames;
                              finger joints (25–54) relative to the mean relaxed hand, as in BEAT2
                              (smplx `flat_hand_mean=False`): zeros = a relaxed, slightly curled hand
    trans (T, 3) float32      root translation, metres, Y up
    arkit (T, 52) float32     ARKit weights 0..1, Apple order
    expressions (T, 100)      FLAME expression coefficients, or None (then derived from arkit, or zeros)
    """

    poses: np.ndarray
    trans: np.ndarray
    arkit: np.ndarray
    fps: int = MOTION_FPS
    meta: dict = field(default_factory=dict)
    expressions: np.ndarray | None = None  # (T, 100) FLAME, when the body engine makes a face (EMAGE)

    def __post_init__(self) -> None:
        t = self.poses.shape[0]
        if self.poses.shape != (t, NUM_JOINTS, 3):
            raise ValueError(f"poses must be (T, {NUM_JOINTS}, 3), got {self.poses.shape}")
        if self.trans.shape != (t, 3) or self.arkit.shape != (t, NUM_ARKIT):
            raise ValueError("trans must be (T, 3) and arkit (T, 52) with the same T as poses")

    @property
    def n_frames(self) -> int:
        return int(self.poses.shape[0])
