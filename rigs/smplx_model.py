"""The user's own SMPL-X model file (SMPLX_NEUTRAL/MALE/FEMALE.npz from smpl-x.is.tue.mpg.de).

Orator never ships SMPL-X data; users with a licence point the add-on at their file. It is read with
`np.load(allow_pickle=False)`, and only the arrays below are touched (the official npz also holds
pickled dicts such as `part2num`, which are never unpickled).

Array shapes as the `smplx` package reads them (V = 10,475 vertices, 55 joints):
v_template (V, 3); f (20908, 3); J_regressor (55, V); weights (V, 55); kintree_table (2, 55);
shapedirs (V, 3, 400) = 300 shape + 100 expression directions (SMPL-X 1.0 files: 10 + 10);
posedirs (V, 3, 486) = 54 joints × 9 rotation-matrix entries; hands_meanl / hands_meanr (45,);
hands_componentsl / hands_componentsr (45, 45).
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._backend import safe_npz, skeleton

try:
    from ..backend.errors import UserError
except (ImportError, ValueError):
    from backend.errors import UserError

NUM_VERTICES = 10475
NUM_FACES = 20908
NUM_JOINTS = skeleton.NUM_JOINTS
NUM_POSE_BASIS = (NUM_JOINTS - 1) * 9  # 486

# key → expected shape (None = any size on that axis)
REQUIRED_KEYS: dict[str, tuple[int | None, ...]] = {
    "v_template": (NUM_VERTICES, 3),
    "f": (NUM_FACES, 3),
    "J_regressor": (NUM_JOINTS, NUM_VERTICES),
    "weights": (NUM_VERTICES, NUM_JOINTS),
    "kintree_table": (2, NUM_JOINTS),
    "shapedirs": (NUM_VERTICES, 3, None),
    "posedirs": (NUM_VERTICES, 3, NUM_POSE_BASIS),
    "hands_meanl": (45,),
    "hands_meanr": (45,),
    "hands_componentsl": (45, 45),
    "hands_componentsr": (45, 45),
}
EXPECTED_FILE = "an SMPL-X model file such as SMPLX_NEUTRAL.npz (models_smplx_v1_1 from smpl-x.is.tue.mpg.de)"


@dataclass(frozen=True, eq=False)
class SmplxModel:
    """SMPL-X model arrays (float64 unless noted). shapedirs (V, 3, S) body shape; exprdirs (V, 3, E)."""

    v_template: np.ndarray
    faces: np.ndarray            # (F, 3) int64
    j_regressor: np.ndarray      # (55, V)
    weights: np.ndarray          # (V, 55)
    parents: tuple[int, ...]
    shapedirs: np.ndarray
    exprdirs: np.ndarray
    posedirs: np.ndarray         # (V, 3, 486)
    hands_meanl: np.ndarray      # (45,)
    hands_meanr: np.ndarray      # (45,)
    source: str = ""

    @property
    def num_betas(self) -> int:
        return self.shapedirs.shape[-1]

    @property
    def num_expressions(self) -> int:
        return self.exprdirs.shape[-1]

    def shaped_vertices(self, betas: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) rest vertices for body shape betas (B,) (B ≤ num_betas; None = mean shape)."""
        v = self.v_template.copy()
        if betas is not None:
            betas = np.asarray(betas, dtype=np.float64)[: self.num_betas]
            v += self.shapedirs[:, :, : len(betas)] @ betas
        return v

    def joints(self, betas: np.ndarray | None = None) -> np.ndarray:
        """(55, 3) rest joint positions J_regressor · v (Y up, metres, SMPL-X axes)."""
        return self.j_regressor @ self.shaped_vertices(betas)

    def rest_offsets(self, betas: np.ndarray | None = None) -> np.ndarray:
        """(55, 3) joint offsets from parents (the root's is its position), for retargeting/FK."""
        j = self.joints(betas)
        parents = np.array(self.parents)
        return np.where((parents >= 0)[:, None], j - j[np.maximum(parents, 0)], j)

    def hand_mean(self) -> np.ndarray:
        """(30, 3) MANO mean hand of joints 25–54 (left then right): what BEAT2 finger poses are relative to."""
        return np.concatenate([self.hands_meanl, self.hands_meanr]).reshape(skeleton.NUM_HAND_JOINTS, 3)


def _expected_shape_ok(shape: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def _parents_from_kintree(kintree: np.ndarray) -> tuple[int, ...]:
    """kintree_table row 0 holds parents; the root's is −1 or 2³²−1 depending on the file's dtype."""
    row = np.asarray(kintree[0]).astype(np.int64)
    return tuple(int(p) if 0 <= p < kintree.shape[1] else -1 for p in row)


def read_model_arrays(path: str | os.PathLike, required: dict[str, tuple[int | None, ...]],
                      expected_file: str) -> dict[str, np.ndarray]:
    """The required arrays of an npz, shape-checked. Any problem → UserError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Model file not found: {path}. Expected {expected_file}.")
    with open(path, "rb") as fh:
        if fh.read(2) != b"PK":
            raise UserError(f"{path.name} is not a readable .npz (not a zip archive). Expected {expected_file}.")
    safe_npz.npz_declared(path)  # declared shapes vs the stored sizes, before anything is inflated
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise UserError(f"{path.name} is not a readable .npz ({e}). Expected {expected_file}.") from None
    if not hasattr(z, "files"):
        raise UserError(f"{path.name} holds a single array, not a model. Expected {expected_file}.")
    with z:
        missing = [k for k in required if k not in z.files]
        if missing:
            raise UserError(f"{path.name} lacks {', '.join(missing)}. Expected {expected_file}.")
        out = {}
        for k, shape in required.items():
            try:
                a = z[k]
            except ValueError:
                raise UserError(f"{path.name}: array '{k}' is a pickled object array, which Orator does not "
                                f"load for safety. Expected {expected_file}.") from None
            if a.dtype == object or not _expected_shape_ok(a.shape, shape):
                want = "×".join("any" if s is None else str(s) for s in shape)
                raise UserError(f"{path.name}: '{k}' has shape {a.shape} {a.dtype}, expected {want}. "
                                f"Expected {expected_file}.")
            out[k] = a
    return check_model_values(out, path.name, expected_file)


def check_model_values(arrays: dict[str, np.ndarray], name: str, expected_file: str) -> dict[str, np.ndarray]:
    """Real, finite numbers and faces that index existing vertices; UserError otherwise."""
    for k, a in arrays.items():
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) or np.iscomplexobj(a):
            raise UserError(f"{name}: '{k}' holds {a.dtype} values, not real numbers. Expected {expected_file}.")
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise UserError(f"{name}: '{k}' contains NaN or infinite values. Expected {expected_file}.")
    faces, verts = arrays.get("f"), arrays.get("v_template")
    if faces is not None and verts is not None and faces.size:
        if not np.issubdtype(faces.dtype, np.integer) and not np.all(faces == np.round(faces)):
            raise UserError(f"{name}: face indices 'f' are not whole numbers. Expected {expected_file}.")
        if faces.min() < 0 or faces.max() >= len(verts):
            raise UserError(f"{name}: face indices 'f' reach {faces.max()}, but there are {len(verts)} vertices "
                            f"(0..{len(verts) - 1}). Expected {expected_file}.")
    return arrays


def load_smplx_model(path: str | os.PathLike) -> SmplxModel:
    """Read a user's SMPL-X npz (allow_pickle=False). Raises UserError naming missing/odd keys."""
    a = read_model_arrays(path, REQUIRED_KEYS, EXPECTED_FILE)
    parents = _parents_from_kintree(a["kintree_table"])
    if parents != skeleton.PARENTS:
        raise UserError(f"{Path(path).name}: its joint tree is not SMPL-X's 55-joint tree (an SMPL or SMPL+H "
                        f"file?). Expected {EXPECTED_FILE}.")
    dirs = a["shapedirs"].astype(np.float64)
    n_shape = 300 if dirs.shape[-1] >= 400 else 10  # smplx: 300 + 100, or the 1.0 files' 10 + 10
    if dirs.shape[-1] <= n_shape:
        raise UserError(f"{Path(path).name}: shapedirs has only {dirs.shape[-1]} directions, so no expression "
                        f"space. Expected {EXPECTED_FILE}.")
    return SmplxModel(
        v_template=a["v_template"].astype(np.float64),
        faces=a["f"].astype(np.int64),
        j_regressor=a["J_regressor"].astype(np.float64),
        weights=a["weights"].astype(np.float64),
        parents=parents,
        shapedirs=dirs[:, :, :n_shape],
        exprdirs=dirs[:, :, n_shape:n_shape + 100],
        posedirs=a["posedirs"].astype(np.float64),
        hands_meanl=a["hands_meanl"].astype(np.float64),
        hands_meanr=a["hands_meanr"].astype(np.float64),
        source=str(path),
    )


def write_synthetic_smplx(path: str | os.PathLike, rng: np.random.Generator, num_shape_dirs: int = 400) -> None:
    """Write a random but well-formed SMPL-X-shaped npz for tests (no real model data).

    Vertices sit in small clusters around the approximate neutral joints, each skinned to its joint,
    and J_regressor averages each cluster, so joints ≈ the neutral skeleton.
    """
    offsets = np.asarray(skeleton.REST_OFFSETS, dtype=np.float64)
    joint_pos = np.zeros((NUM_JOINTS, 3))
    for i, p in enumerate(skeleton.PARENTS):
        joint_pos[i] = offsets[i] if p < 0 else joint_pos[p] + offsets[i]
    owner = np.concatenate([np.arange(NUM_JOINTS), rng.integers(0, NUM_JOINTS, NUM_VERTICES - NUM_JOINTS)])
    v_template = joint_pos[owner] + rng.normal(0.0, 0.01, (NUM_VERTICES, 3))
    weights = np.zeros((NUM_VERTICES, NUM_JOINTS))
    weights[np.arange(NUM_VERTICES), owner] = 1.0
    j_regressor = weights.T / weights.sum(axis=0)[:, None]
    kintree = np.array([[2**32 - 1, *skeleton.PARENTS[1:]], list(range(NUM_JOINTS))], dtype=np.uint32)
    components = np.linalg.qr(rng.normal(size=(45, 45)))[0]
    np.savez(
        path,
        v_template=v_template.astype(np.float32),
        f=rng.integers(0, NUM_VERTICES, (NUM_FACES, 3)).astype(np.int32),
        J_regressor=j_regressor.astype(np.float32),
        weights=weights.astype(np.float32),
        kintree_table=kintree,
        shapedirs=(rng.normal(0.0, 0.002, (NUM_VERTICES, 3, num_shape_dirs))).astype(np.float32),
        posedirs=(rng.normal(0.0, 0.001, (NUM_VERTICES, 3, NUM_POSE_BASIS))).astype(np.float32),
        hands_meanl=rng.normal(0.0, 0.2, 45).astype(np.float32),
        hands_meanr=rng.normal(0.0, 0.2, 45).astype(np.float32),
        hands_componentsl=components.astype(np.float32),
        hands_componentsr=components.T.astype(np.float32),
    )
