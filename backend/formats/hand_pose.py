"""Finger poses: our own approximation of the SMPL-X/MANO mean relaxed hand and named hand shapes.

SMPL-X hand joints 25–54 (left 25–39, right 40–54; per hand: index, middle, pinky, ring, thumb, three
segments each) rotate relative to their parent in the T-pose rest frame. The left hand's fingers point
+X with the palm facing −Y and the thumb toward +Z; the right hand is its mirror image.

BEAT2 stores finger rotations relative to MANO's mean relaxed hand (smplx `flat_hand_mean=False`), which
ships only inside users' licensed model files. MEAN_RELAXED_HAND is our own authored stand-in: a
gently curled hand, more curl toward the pinky. Shapes are authored as absolute (flat-hand-relative)
axis-angles and returned relative to that mean, so zeros = the relaxed hand, as in BEAT2.
Axis-angles of one segment are built as sums of small single-axis rotations (curl + spread), which is
accurate enough at these angles and keeps the authoring readable.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..vocabulary.skeleton import FINGERS, HANDS, JOINT_INDEX, NUM_HAND_JOINTS, REST_OFFSETS

# Full flexion (rad) of the proximal, middle and distal segment of a long finger.
_SEGMENT_FLEX_MAX = np.array([1.45, 1.65, 1.05])
# Spread (abduction) direction per long finger: −1 toward the thumb, +1 toward the little finger.
_SPREAD_SIDE = {"index": -1.0, "middle": -0.15, "ring": 0.55, "pinky": 1.0}
# Full thumb flexion (rad) per segment: the base rolls the thumb across the palm, the tip curls.
_THUMB_FLEX_MAX = np.array([0.75, 0.70, 0.90])
_THUMB_OPPOSE_MAX = 0.55  # base rotation that brings the thumb under the index finger


def _left_axes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Curl axis of long fingers, spread axis, and thumb flexion axis for the LEFT hand, (3,) each."""
    curl = np.array([0.0, 0.0, -1.0])        # rotates +X (finger) toward −Y (palm side)
    spread = np.array([0.0, 1.0, 0.0])       # rotates +X toward −Z (away from the thumb)
    thumb_dir = np.asarray(REST_OFFSETS[JOINT_INDEX["left_thumb2"]], dtype=np.float64)
    thumb_dir /= np.linalg.norm(thumb_dir)
    palm_normal = np.array([0.0, -1.0, 0.0])
    thumb_flex = np.cross(thumb_dir, palm_normal)  # rotating about d×n moves d toward n
    return curl, spread, thumb_flex / np.linalg.norm(thumb_flex)


@dataclass(frozen=True)
class HandShape:
    """One authored hand shape: curl 0..1 per finger (index, middle, pinky, ring, thumb), spread in rad."""

    curl: tuple[float, float, float, float, float]
    spread: float = 0.0
    thumb_oppose: float = 0.3  # 0 = thumb alongside the index, 1 = across the palm

    def left_absolute(self) -> np.ndarray:
        """(15, 3) axis-angle of the left hand's 15 finger joints relative to a flat hand."""
        curl_axis, spread_axis, thumb_axis = _left_axes()
        out = np.zeros((5, 3, 3))
        for f, name in enumerate(FINGERS):
            c = float(self.curl[f])
            if name == "thumb":
                out[f] = thumb_axis[None, :] * (_THUMB_FLEX_MAX * c)[:, None]
                out[f, 0] += np.array([1.0, 0.0, 0.0]) * _THUMB_OPPOSE_MAX * self.thumb_oppose  # +Z toward −Y
            else:
                out[f] = curl_axis[None, :] * (_SEGMENT_FLEX_MAX * c)[:, None]
                out[f, 0] += spread_axis * _SPREAD_SIDE[name] * self.spread
        return out.reshape(15, 3)


def mirror_hand(left: np.ndarray) -> np.ndarray:
    """(..., 15, 3) left-hand axis-angles → the mirror-image right-hand ones (reflection x → −x)."""
    return np.asarray(left) * np.array([1.0, -1.0, -1.0])


RELAXED = HandShape(curl=(0.17, 0.21, 0.30, 0.26, 0.25), spread=0.04, thumb_oppose=0.35)

HAND_SHAPES: dict[str, HandShape] = {
    "relaxed": RELAXED,
    "open": HandShape(curl=(0.04, 0.05, 0.08, 0.06, 0.05), spread=0.10, thumb_oppose=0.1),
    "spread": HandShape(curl=(0.0, 0.0, 0.02, 0.0, 0.0), spread=0.32, thumb_oppose=0.0),
    "flat": HandShape(curl=(0.0, 0.0, 0.0, 0.0, 0.05), spread=0.0, thumb_oppose=0.45),
    "cupped": HandShape(curl=(0.22, 0.25, 0.30, 0.28, 0.2), spread=0.06, thumb_oppose=0.3),
    "fist": HandShape(curl=(1.0, 1.0, 1.0, 1.0, 0.75), spread=0.0, thumb_oppose=0.9),
    "point": HandShape(curl=(0.0, 0.95, 1.0, 1.0, 0.7), spread=0.0, thumb_oppose=0.85),
    "precision": HandShape(curl=(0.45, 0.35, 0.45, 0.40, 0.55), spread=0.0, thumb_oppose=0.7),
    "count_1": HandShape(curl=(0.0, 0.95, 1.0, 1.0, 0.75), spread=0.05, thumb_oppose=0.85),
    "count_2": HandShape(curl=(0.0, 0.0, 1.0, 1.0, 0.75), spread=0.15, thumb_oppose=0.85),
    "count_3": HandShape(curl=(0.0, 0.0, 1.0, 0.0, 0.75), spread=0.18, thumb_oppose=0.85),
    "count_4": HandShape(curl=(0.0, 0.0, 0.0, 0.0, 0.8), spread=0.22, thumb_oppose=0.9),
    "count_5": HandShape(curl=(0.0, 0.0, 0.0, 0.0, 0.0), spread=0.30, thumb_oppose=0.0),
}

# (30, 3): the mean relaxed hand, left joints 25–39 then right 40–54, relative to a flat hand.
MEAN_RELAXED_HAND: np.ndarray = np.concatenate(
    [RELAXED.left_absolute(), mirror_hand(RELAXED.left_absolute())], axis=0)
MEAN_RELAXED_HAND.setflags(write=False)


def hand_shape(name: str, side: str) -> np.ndarray:
    """(15, 3) axis-angle of one hand's finger joints relative to MEAN_RELAXED_HAND (BEAT2 convention).

    side: 'left' (joints 25–39) or 'right' (joints 40–54).
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    relative = _left_relative(name)
    return relative.copy() if side == "left" else mirror_hand(relative)


@lru_cache(maxsize=None)
def _left_relative(name: str) -> np.ndarray:
    """Cached: the body engine asks for a shape per key (hundreds per minute of speech)."""
    out = HAND_SHAPES[name].left_absolute() - RELAXED.left_absolute()
    out.setflags(write=False)
    return out


def to_flat_hand(relative: np.ndarray) -> np.ndarray:
    """(..., 30, 3) mean-relative finger poses (joints 25–54) → flat-hand-relative (flat_hand_mean=True)."""
    return np.asarray(relative) + MEAN_RELAXED_HAND


# --- the real MANO mean hand of a user's SMPL-X model ---------------------------------------------

HAND_MEAN_STAND_IN = "orator-stand-in"  # motion.npz `hand_mean_source` when MEAN_RELAXED_HAND was used


def read_hand_mean(path) -> np.ndarray:
    """(30, 3) MANO mean hand (joints 25–54, left then right) from a user's SMPL-X .npz
    (`hands_meanl`, `hands_meanr`, 45 values each), read with allow_pickle=False; UserError otherwise."""
    import zipfile
    from pathlib import Path

    from ..errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"SMPL-X model file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("hands_meanl", "hands_meanr") if k not in z.files]
            if missing:
                raise UserError(f"{path.name} lacks {', '.join(missing)}: give an SMPL-X model .npz "
                                "(SMPLX_NEUTRAL.npz from smpl-x.is.tue.mpg.de)")
            left, right = (np.asarray(z[k], np.float64).reshape(-1) for k in ("hands_meanl", "hands_meanr"))
    except (OSError, ValueError, AttributeError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path.name} is not a readable SMPL-X .npz ({exc.__class__.__name__})") from None
    if left.shape != (45,) or right.shape != (45,) or not (np.isfinite(left).all() and np.isfinite(right).all()):
        raise UserError(f"{path.name}: hands_meanl/hands_meanr must be 45 finite numbers each")
    return np.concatenate([left, right]).reshape(NUM_HAND_JOINTS, 3)


def add_hand_mean(poses: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """(T, 55, 3) poses, (30, 3) or (90,) mean hand → a copy with the mean added to the finger joints 25–54
    (as smplx does with `flat_hand_mean=False`: an axis-angle sum), in poses' dtype. Other joints untouched.

    The one place a mean hand meets a pose: adding it gives flat-hand-relative fingers (BVH, retargeting),
    adding its negative takes it back off (prompt capture), adding a difference moves between means.
    """
    out = np.array(poses, copy=True)
    out[:, HANDS] = (out[:, HANDS] + np.asarray(mean, np.float64).reshape(NUM_HAND_JOINTS, 3)).astype(out.dtype)
    return out


def rebase_fingers(poses: np.ndarray, from_mean: np.ndarray, to_mean: np.ndarray) -> np.ndarray:
    """(T, 55, 3) poses with fingers relative to from_mean (30, 3) → the same hands relative to to_mean.

    SMPL-X adds the mean to the stored finger axis-angles (smplx `flat_hand_mean=False`), so moving
    between means is exact in that convention: stored + from_mean − to_mean. Other joints untouched.
    """
    shift = (np.asarray(from_mean, np.float64).reshape(NUM_HAND_JOINTS, 3)
             - np.asarray(to_mean, np.float64).reshape(NUM_HAND_JOINTS, 3))
    return add_hand_mean(poses, shift)
