"""BEAT2 / SMPL-X motion npz: what EMAGE writes and the SMPL-X Blender add-on reads, plus ARKit curves.

Keys: poses (T,165) float32, trans (T,3) float32, expressions (T,100) float32, betas (300,) float32,
gender str, mocap_frame_rate int, model str, arkit (T,52) float32, arkit_names (52,) str,
hand_mean (90,) float32 and hand_mean_source str: the mean hand the stored fingers are relative to
(BEAT2 convention: full finger pose = stored + mean; the user's SMPL-X `hands_meanl/r` when they gave
their model, else Orator's stand-in MEAN_RELAXED_HAND). Files without them (BEAT2's, EMAGE's) are
relative to the real MANO mean.
Everything is a plain array, so files load with `np.load(path, allow_pickle=False)`.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..errors import UserError
from ..vocabulary.face import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT
from ..vocabulary.rates import MOTION_FPS
from ..vocabulary.skeleton import NUM_HAND_JOINTS, NUM_JOINTS

NUM_EXPRESSIONS = 100
NUM_BETAS = 300
GENDERS = ("neutral", "male", "female")


@dataclass(frozen=True)
class MotionFile:
    """Contents of a motion npz. poses (T,55,3); trans (T,3); expressions (T,100); arkit (T,52) or None.

    poses' fingers are relative to Orator's MEAN_RELAXED_HAND whenever the file says which mean it
    stored them against (hand_mean, (30,3)); files that do not say are returned as stored.
    """

    poses: np.ndarray
    trans: np.ndarray
    expressions: np.ndarray
    betas: np.ndarray
    gender: str
    fps: int
    model: str
    arkit: np.ndarray | None
    hand_mean: np.ndarray | None = None   # (30, 3) the mean the file's fingers were stored against
    hand_mean_source: str | None = None

    @property
    def n_frames(self) -> int:
        return int(self.poses.shape[0])


def write_motion_npz(path: str | os.PathLike, poses: np.ndarray, trans: np.ndarray,
                     arkit: np.ndarray, expressions: np.ndarray | None = None,
                     betas: np.ndarray | None = None, gender: str = "neutral", fps: int = MOTION_FPS,
                     hand_mean: np.ndarray | None = None, hand_mean_source: str | None = None) -> Path:
    """Write a motion file atomically (a temp file renamed into place, so readers never see half a file).

    poses (T,55,3) or (T,165), fingers relative to Orator's MEAN_RELAXED_HAND; trans (T,3); arkit (T,52);
    expressions (T,100) or None (zeros). hand_mean (30,3): store the fingers relative to this mean
    instead (a user's SMPL-X hands_meanl/r: what BEAT2 tools and smplx expect), named by hand_mean_source.
    """
    from .hand_pose import HAND_MEAN_STAND_IN, MEAN_RELAXED_HAND, rebase_fingers

    poses = np.asarray(poses, dtype=np.float32).reshape(len(poses), NUM_JOINTS, 3)
    if hand_mean is None:
        hand_mean, hand_mean_source = MEAN_RELAXED_HAND, HAND_MEAN_STAND_IN
    else:
        poses = rebase_fingers(poses, MEAN_RELAXED_HAND, hand_mean)
    poses = poses.reshape(len(poses), NUM_JOINTS * 3)
    t = poses.shape[0]
    expressions = (np.zeros((t, NUM_EXPRESSIONS), np.float32) if expressions is None
                   else np.asarray(expressions, dtype=np.float32))
    betas = np.zeros(NUM_BETAS, np.float32) if betas is None else np.asarray(betas, np.float32)
    if gender not in GENDERS:
        raise ValueError(f"gender must be one of {GENDERS}")
    arrays = dict(
        poses=poses,
        trans=np.asarray(trans, dtype=np.float32),
        expressions=expressions,
        betas=betas,
        gender=np.array(gender),
        mocap_frame_rate=np.array(int(fps)),
        model=np.array("smplx2020"),
        arkit=np.asarray(arkit, dtype=np.float32),
        arkit_names=np.array(ARKIT_NAMES),
        hand_mean=np.asarray(hand_mean, np.float32).reshape(90),
        hand_mean_source=np.array(str(hand_mean_source or "smplx model")),
    )
    path = Path(path)
    with atomic_write(path, binary=True) as fh:
        np.savez(fh, **arrays)
    return path


def read_motion_npz(path: str | os.PathLike) -> MotionFile:
    """Read a BEAT2/SMPL-X motion npz (ours, EMAGE's or BEAT2's), never unpickling.

    Accepts `mocap_frame_rate` or AMASS's `mocap_framerate`; `arkit` is reordered by `arkit_names`
    when present. Raises UserError with one actionable line on anything malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"motion file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"{path.name} is not a readable npz motion file ({exc.__class__.__name__}): "
                        "expected a BEAT2/SMPL-X npz with 'poses' and 'trans'") from None
    with data:
        try:
            keys = set(data.files)
            missing = {"poses", "trans"} - keys
            if missing:
                raise UserError(f"{path.name} lacks {', '.join(sorted(missing))}: expected a BEAT2/SMPL-X "
                                "npz (poses (T,165), trans (T,3))")
            poses = np.asarray(data["poses"], dtype=np.float32)
            trans = np.asarray(data["trans"], dtype=np.float32)
            if poses.ndim != 2 or poses.shape[1] < NUM_JOINTS * 3 or poses.shape[0] < 1:
                raise UserError(f"{path.name}: poses must be (T, 165) SMPL-X axis-angle, got {poses.shape}")
            t = poses.shape[0]
            poses = poses[:, :NUM_JOINTS * 3].reshape(t, NUM_JOINTS, 3)
            if trans.shape != (t, 3):
                raise UserError(f"{path.name}: trans must be ({t}, 3), got {trans.shape}")
            expressions = (np.asarray(data["expressions"], np.float32) if "expressions" in keys
                           else np.zeros((t, NUM_EXPRESSIONS), np.float32))
            if expressions.ndim != 2 or expressions.shape[0] != t:
                raise UserError(f"{path.name}: expressions must be ({t}, N), got {expressions.shape}")
            betas = (np.asarray(data["betas"], np.float32).reshape(-1) if "betas" in keys
                     else np.zeros(NUM_BETAS, np.float32))
            gender = str(data["gender"]) if "gender" in keys else "neutral"
            fps_key = "mocap_frame_rate" if "mocap_frame_rate" in keys else "mocap_framerate"
            fps = int(round(float(data[fps_key]))) if fps_key in keys else MOTION_FPS
            model = str(data["model"]) if "model" in keys else "smplx2020"
            arkit = None
            if "arkit" in keys:
                arkit = np.asarray(data["arkit"], np.float32)
                names = [str(n) for n in data["arkit_names"]] if "arkit_names" in keys else list(ARKIT_NAMES)
                if arkit.shape != (t, len(names)):
                    raise UserError(f"{path.name}: arkit must be ({t}, {len(names)}), got {arkit.shape}")
                ordered = np.zeros((t, NUM_ARKIT), np.float32)
                for col, name in enumerate(names):
                    if name in ARKIT_INDEX:
                        ordered[:, ARKIT_INDEX[name]] = arkit[:, col]
                arkit = ordered
            hand_mean, hand_mean_source = None, None
            if "hand_mean" in keys:
                hand_mean = np.asarray(data["hand_mean"], np.float64)
                if hand_mean.size != 3 * NUM_HAND_JOINTS or not np.all(np.isfinite(hand_mean)):
                    raise UserError(f"{path.name}: hand_mean must be 90 finite numbers, got {hand_mean.shape}")
                hand_mean = hand_mean.reshape(NUM_HAND_JOINTS, 3)
                hand_mean_source = str(data["hand_mean_source"]) if "hand_mean_source" in keys else None
        except ValueError as exc:  # object arrays refused by allow_pickle=False, bad shapes
            raise UserError(f"{path.name}: unreadable array ({exc}); re-save it with plain numeric arrays") from None
    for name, arr in (("poses", poses), ("trans", trans)):
        if not np.all(np.isfinite(arr)):
            raise UserError(f"{path.name}: {name} contains NaN or infinite values")
    if fps <= 0:
        raise UserError(f"{path.name}: frame rate must be positive, got {fps}")
    from .hand_pose import MEAN_RELAXED_HAND, rebase_fingers
    if hand_mean is not None and not np.allclose(hand_mean, MEAN_RELAXED_HAND, atol=1e-6):
        poses = rebase_fingers(poses, hand_mean, MEAN_RELAXED_HAND)  # back to Orator's convention
    return MotionFile(poses, trans, expressions, betas, gender, fps, model, arkit, hand_mean, hand_mean_source)
