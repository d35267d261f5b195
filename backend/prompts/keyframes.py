"""Masked keyframe prompts, the contract: channels the artist fixed at chosen frames, checked.

File format (`.npz`, read with `allow_pickle=False`), K prompt frames at the motion's 30 fps:

    frames      (K,)       int     frame indices, 0 = the first frame of the audio, each at most once
    pose_mask   (K, 55)    bool    which SMPL-X joint rotations are fixed on that frame
    poses       (K, 55, 3) float   axis-angle targets, local, in the Performance convention
                                   (fingers relative to the mean relaxed hand, as in BEAT2)
    trans_mask  (K,)       bool    whether the root position is fixed on that frame
    trans       (K, 3)     float   root position targets, metres, Y up (as Performance.trans)
    arkit_mask  (K, 52)    bool    which ARKit curves are fixed on that frame
    arkit       (K, 52)    float   ARKit targets 0..1, Apple order

Values where the mask is False are ignored (but must still be finite). The jaw and eye joints (22–24)
always follow the face curves (`jawOpen`, `eyeLook*`), so they are prompted through `arkit`, never
through `pose_mask`.

The file itself is read and written by prompts_file.py; blend.py makes a take honour the prompts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..vocabulary.face import ARKIT_NAMES
from ..vocabulary.rates import MOTION_FPS
from ..vocabulary.skeleton import EYE_JOINTS, JAW_JOINT, JOINT_NAMES, NUM_JOINTS

NUM_ARKIT = len(ARKIT_NAMES)
FACE_DRIVEN_JOINTS = (JAW_JOINT, *EYE_JOINTS)  # set from the ARKit curves by assemble_performance
PROMPT_KEYS = ("frames", "pose_mask", "poses", "trans_mask", "trans", "arkit_mask", "arkit")
MAX_PROMPT_FRAME = MOTION_FPS * 3600 * 24   # a day of motion
MAX_AXIS_ANGLE = 4 * np.pi      # rad; larger rotations are the same as smaller ones, 1e30 is a broken file
MAX_TRANS_M = 1e4


@dataclass(frozen=True, eq=False)
class Prompts:
    """K prompt frames (sorted, unique); shapes as in the module docstring."""

    frames: np.ndarray
    pose_mask: np.ndarray
    poses: np.ndarray
    trans_mask: np.ndarray
    trans: np.ndarray
    arkit_mask: np.ndarray
    arkit: np.ndarray

    @classmethod
    def empty(cls) -> "Prompts":
        return cls(np.zeros(0, np.int64), np.zeros((0, NUM_JOINTS), bool), np.zeros((0, NUM_JOINTS, 3), np.float32),
                   np.zeros(0, bool), np.zeros((0, 3), np.float32), np.zeros((0, NUM_ARKIT), bool),
                   np.zeros((0, NUM_ARKIT), np.float32))

    @property
    def count(self) -> int:
        return len(self.frames)

    @property
    def last_frame(self) -> int:
        """The latest frame any channel is fixed on, −1 when nothing is fixed."""
        used = self.pose_mask.any(axis=1) | self.trans_mask | self.arkit_mask.any(axis=1)
        return int(self.frames[used].max()) if used.any() else -1

    def dense(self, n_frames: int) -> "DensePrompts":
        """Per-frame arrays over the whole take (frames must lie inside it)."""
        d = DensePrompts(np.zeros((n_frames, NUM_JOINTS), bool), np.zeros((n_frames, NUM_JOINTS, 3)),
                         np.zeros(n_frames, bool), np.zeros((n_frames, 3)),
                         np.zeros((n_frames, NUM_ARKIT), bool), np.zeros((n_frames, NUM_ARKIT)))
        inside = self.frames < n_frames  # rows past the end fix nothing (check_prompt_frames refused used ones)
        f = self.frames[inside]
        d.pose_mask[f], d.poses[f] = self.pose_mask[inside], self.poses[inside]
        d.trans_mask[f], d.trans[f] = self.trans_mask[inside], self.trans[inside]
        d.arkit_mask[f], d.arkit[f] = self.arkit_mask[inside], self.arkit[inside]
        return d


@dataclass(frozen=True, eq=False)
class DensePrompts:
    """Prompts spread over T frames: masks (T, C) and targets (T, C[, 3]); unfixed rows are zero."""

    pose_mask: np.ndarray
    poses: np.ndarray
    trans_mask: np.ndarray
    trans: np.ndarray
    arkit_mask: np.ndarray
    arkit: np.ndarray

    @property
    def n_frames(self) -> int:
        return len(self.trans_mask)


def _expected_shapes(k: int) -> dict[str, tuple[int, ...]]:
    return {"frames": (k,), "pose_mask": (k, NUM_JOINTS), "poses": (k, NUM_JOINTS, 3), "trans_mask": (k,),
            "trans": (k, 3), "arkit_mask": (k, NUM_ARKIT), "arkit": (k, NUM_ARKIT)}


def prompts_from_arrays(arrays: dict, source: str = "prompts") -> Prompts:
    """Check arrays (names as PROMPT_KEYS) and build sorted Prompts; UserError naming the problem."""
    missing = [k for k in PROMPT_KEYS if k not in arrays]
    if missing:
        raise UserError(f"{source}: prompts file lacks {', '.join(missing)} (needs {', '.join(PROMPT_KEYS)})")
    frames = np.asarray(arrays["frames"])
    if frames.ndim != 1:
        raise UserError(f"{source}: 'frames' must be a 1-D array of frame numbers, got shape {frames.shape}")
    for key, shape in _expected_shapes(len(frames)).items():
        got = np.asarray(arrays[key]).shape
        if got != shape:
            raise UserError(f"{source}: '{key}' must have shape {shape} for {len(frames)} prompt frames, got {got}")
    if not np.issubdtype(frames.dtype, np.integer):
        raise UserError(f"{source}: 'frames' must be integers (30 fps frame numbers), got {frames.dtype}")
    for key in ("pose_mask", "trans_mask", "arkit_mask"):
        if np.asarray(arrays[key]).dtype != np.bool_:
            raise UserError(f"{source}: '{key}' must be a boolean array, got {np.asarray(arrays[key]).dtype}")
    values = {}
    for key in ("poses", "trans", "arkit"):
        a = np.asarray(arrays[key])
        if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
            raise UserError(f"{source}: '{key}' must be real numbers, got {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise UserError(f"{source}: '{key}' contains NaN or infinite values")
        values[key] = a.astype(np.float32)
    if len(frames) and frames.min() < 0:
        raise UserError(f"{source}: prompt at frame {int(frames.min())} is before the start of the audio (frame 0)")
    if len(frames) and frames.max() > MAX_PROMPT_FRAME:  # compared in the file's own dtype: uint64 2^64-1 wrapped
        raise UserError(f"{source}: prompt at frame {int(frames.max())} is beyond any audio (30 fps frame numbers)")
    if len(frames) and float(np.abs(values["poses"]).max(initial=0.0)) > MAX_AXIS_ANGLE:
        raise UserError(f"{source}: 'poses' holds axis-angle rotations up to {float(np.abs(values['poses']).max()):.3g} "
                        f"rad; give rotations in radians (at most {MAX_AXIS_ANGLE:.2f})")
    if len(frames) and float(np.abs(values["trans"]).max(initial=0.0)) > MAX_TRANS_M:
        raise UserError(f"{source}: 'trans' reaches {float(np.abs(values['trans']).max()):.3g} m; give the root "
                        "position in metres")
    arkit_used = np.asarray(arrays["arkit_mask"], bool)
    if arkit_used.any():
        fixed = values["arkit"][arkit_used]
        if fixed.min() < 0.0 or fixed.max() > 1.0:
            raise UserError(f"{source}: fixed ARKit targets must be within 0..1, got {float(fixed.min()):.3g}.."
                            f"{float(fixed.max()):.3g}")
    unique, counts = np.unique(frames, return_counts=True)
    if np.any(counts > 1):
        raise UserError(f"{source}: frame {int(unique[counts > 1][0])} appears more than once in 'frames'")
    pose_mask = np.asarray(arrays["pose_mask"])
    face_driven = pose_mask[:, list(FACE_DRIVEN_JOINTS)].any(axis=0)
    if face_driven.any():
        joint = JOINT_NAMES[FACE_DRIVEN_JOINTS[int(np.argmax(face_driven))]]
        raise UserError(f"{source}: joint '{joint}' follows the face curves; prompt jawOpen/eyeLook* in 'arkit' "
                        "instead of its rotation")
    order = np.argsort(frames, kind="stable")
    return Prompts(frames=frames[order].astype(np.int64), pose_mask=pose_mask[order].copy(),
                   poses=values["poses"][order], trans_mask=np.asarray(arrays["trans_mask"])[order].copy(),
                   trans=values["trans"][order], arkit_mask=np.asarray(arrays["arkit_mask"])[order].copy(),
                   arkit=values["arkit"][order])


def check_prompt_frames(prompts: Prompts, n_frames: int, source: str = "prompts") -> None:
    """UserError when a fixed frame lies past the audio's last frame (n_frames − 1)."""
    last = prompts.last_frame
    if last >= n_frames:
        raise UserError(f"{source}: prompt at frame {last} is past the end of the audio (frame {n_frames - 1})")
