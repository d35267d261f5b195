"""BVH export of SMPL-X skeleton motion (centimetres, Y up, ZXY Euler channels in degrees)."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..motion.rotations import axis_angle_to_matrix, matrix_to_euler
from ..vocabulary.rates import MOTION_FPS
from ..vocabulary.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, REST_OFFSETS
from .hand_pose import add_hand_mean

CM_PER_M = 100.0


def _children(parents: tuple[int, ...]) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in parents]
    for i, p in enumerate(parents):
        if p >= 0:
            kids[p].append(i)
    return kids


def write_bvh(path: str | os.PathLike, poses: np.ndarray, trans: np.ndarray, fps: int = MOTION_FPS,
              hand_mean: np.ndarray | None = None) -> Path:
    """poses (T,55,3) axis-angle (fingers relative to `hand_mean`); trans (T,3) metres.

    hand_mean (30,3): the mean relaxed hand added to finger poses, since BVH has no notion of it;
    None writes finger rotations as they are.
    """
    poses = np.array(poses, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
    if hand_mean is not None:
        poses = add_hand_mean(poses, hand_mean)
    t = poses.shape[0]
    offsets = np.asarray(REST_OFFSETS) * CM_PER_M
    kids = _children(PARENTS)
    out = io.StringIO()
    out.write("HIERARCHY\n")

    order: list[int] = []

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        head = "ROOT" if PARENTS[j] < 0 else "JOINT"
        out.write(f"{pad}{head} {JOINT_NAMES[j]}\n{pad}{{\n")
        off = offsets[j] if PARENTS[j] >= 0 else np.zeros(3)
        out.write(f"{pad}  OFFSET {off[0]:.4f} {off[1]:.4f} {off[2]:.4f}\n")
        if PARENTS[j] < 0:
            out.write(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n")
        else:
            out.write(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation\n")
        order.append(j)
        for c in kids[j]:
            emit(c, depth + 1)
        if not kids[j]:
            # end site continues the bone's own direction; a short stub for joints placed at the tip
            direction = offsets[j] if np.linalg.norm(offsets[j]) > 1e-6 else np.array([0.0, 1.0, 0.0])
            tip = direction / np.linalg.norm(direction) * min(np.linalg.norm(direction), 3.0)
            if JOINT_NAMES[j].endswith("_smplhf") or JOINT_NAMES[j] == "jaw":
                tip = np.array([0.0, 0.0, 2.0])
            out.write(f"{pad}  End Site\n{pad}  {{\n{pad}    OFFSET {tip[0]:.4f} {tip[1]:.4f} {tip[2]:.4f}\n"
                      f"{pad}  }}\n")
        out.write(f"{pad}}}\n")

    emit(0, 0)
    euler = np.degrees(matrix_to_euler(axis_angle_to_matrix(poses[:, order]), "ZXY"))  # (T,55,3)
    frames = np.concatenate([np.asarray(trans, np.float64) * CM_PER_M, euler.reshape(t, -1)], axis=1)
    out.write(f"MOTION\nFrames: {t}\nFrame Time: {1.0 / fps:.8f}\n")
    np.savetxt(out, frames, fmt="%.5f")
    path = Path(path)
    with atomic_write(path) as fh:
        fh.write(out.getvalue())
    return path
