"""The user's own FLAME head model (flame.is.tue.mpg.de): `generic_model.pkl` / `FLAME2020` pkl or an npz.

The official files are Python pickles of numpy arrays, scipy sparse matrices and chumpy `Ch` objects.
Unpickling runs code, so pkl files are read with a RESTRICTED unpickler: it resolves only numpy array
reconstruction, numpy dtypes, scipy.sparse matrix classes and chumpy's plain `Ch` (replaced by a stub
that only keeps its stored `x` array; chumpy itself is never imported); any other global — and
therefore any pickle that would call os.system, eval, … — is refused with a UserError. The UI that
offers to load a FLAME .pkl must say that it is read with this restricted unpickler.

Shapes (V = 5,023 vertices, 5 joints: root, neck, jaw, left eye, right eye): v_template (V, 3);
f (9976, 3); shapedirs (V, 3, 400) = 300 shape + 100 expression; posedirs (V, 3, 36);
J_regressor (5, V) (sparse in the pkl); weights (V, 5); kintree_table (2, 5).
"""
from __future__ import annotations

import codecs
import copyreg
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse

from .smplx_model import _parents_from_kintree, read_model_arrays

try:
    from ..backend.errors import UserError
except (ImportError, ValueError):
    from backend.errors import UserError

NUM_VERTICES = 5023
NUM_FACES = 9976
NUM_JOINTS = 5
JOINT_NAMES = ("root", "neck", "jaw", "left_eye", "right_eye")
REQUIRED_KEYS: dict[str, tuple[int | None, ...]] = {
    "v_template": (NUM_VERTICES, 3),
    "f": (NUM_FACES, 3),
    "shapedirs": (NUM_VERTICES, 3, None),
    "posedirs": (NUM_VERTICES, 3, (NUM_JOINTS - 1) * 9),
    "J_regressor": (NUM_JOINTS, NUM_VERTICES),
    "weights": (NUM_VERTICES, NUM_JOINTS),
    "kintree_table": (2, NUM_JOINTS),
}
EXPECTED_FILE = "a FLAME model file such as FLAME2020/generic_model.pkl (flame.is.tue.mpg.de) or an npz of its arrays"


class ChumpyArrayStub:
    """Stands in for `chumpy.ch.Ch` while unpickling: keeps the pickled state, runs nothing."""

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {"state": state}

    def array(self) -> np.ndarray:
        x = self.state.get("x")
        if not isinstance(x, np.ndarray):
            raise UserError("The FLAME file holds a chumpy expression rather than a stored array; convert it to "
                            "plain numpy arrays (an npz with v_template, f, shapedirs, posedirs, J_regressor, "
                            "weights, kintree_table) and load that instead.")
        return x


try:  # numpy ≥ 1.26 has the private path numpy 2 pickles name; older ones only numpy.core
    from numpy._core import multiarray as _NUMPY_MULTIARRAY
except ImportError:  # pragma: no cover
    from numpy.core import multiarray as _NUMPY_MULTIARRAY
_ALLOWED: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _NUMPY_MULTIARRAY._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _NUMPY_MULTIARRAY._reconstruct,
    ("numpy.core.multiarray", "scalar"): _NUMPY_MULTIARRAY.scalar,
    ("numpy._core.multiarray", "scalar"): _NUMPY_MULTIARRAY.scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("chumpy.ch", "Ch"): ChumpyArrayStub,
    ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles from Python 3 spell bytes
}
for _fmt in ("csc", "csr", "coo"):
    _cls = getattr(scipy.sparse, f"{_fmt}_matrix")
    for _mod in (f"scipy.sparse.{_fmt}", f"scipy.sparse._{_fmt}", "scipy.sparse"):
        _ALLOWED[(_mod, f"{_fmt}_matrix")] = _cls


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals in the allowlist: numpy arrays/dtypes, scipy.sparse matrices, chumpy Ch."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            hint = (" (a chumpy expression: convert the file to plain arrays first)"
                    if module.startswith("chumpy") else "")
            raise UserError(f"Refused to load '{module}.{name}' from the pickle: Orator's restricted unpickler only "
                            f"accepts numpy arrays and scipy sparse matrices{hint}.") from None


def restricted_load(data: bytes):
    """Unpickle `data` with the allowlist (Python 2 pickles decoded as latin-1)."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - a malformed pickle is the user's file, not our bug
        raise UserError(f"Could not read the pickle ({type(e).__name__}: {e}).") from None


def _as_array(value) -> np.ndarray:
    if isinstance(value, ChumpyArrayStub):
        return value.array()
    if scipy.sparse.issparse(value):
        if int(np.prod(value.shape, dtype=np.float64)) * 8 > MAX_DENSE_BYTES:  # a crafted (10^6, 10^6) matrix
            raise UserError(f"a sparse matrix of shape {value.shape} is far larger than any FLAME array. "
                            f"Expected {EXPECTED_FILE}.")
        return np.asarray(value.toarray())
    return np.asarray(value)


@dataclass(frozen=True, eq=False)
class FlameModel:
    """FLAME arrays (float64). shapedirs (V, 3, S) identity; exprdirs (V, 3, E) expression."""

    v_template: np.ndarray
    faces: np.ndarray
    shapedirs: np.ndarray
    exprdirs: np.ndarray
    posedirs: np.ndarray
    j_regressor: np.ndarray
    weights: np.ndarray
    parents: tuple[int, ...]
    source: str = ""

    def joints(self) -> np.ndarray:
        """(5, 3) rest joints of the mean head."""
        return self.j_regressor @ self.v_template


MAX_DENSE_BYTES = 1 << 30


def _check(arrays: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    from .smplx_model import _expected_shape_ok, check_model_values
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise UserError(f"{name} lacks {', '.join(missing)}. Expected {EXPECTED_FILE}.")
    for k, shape in REQUIRED_KEYS.items():
        if not _expected_shape_ok(arrays[k].shape, shape) or arrays[k].dtype == object:
            raise UserError(f"{name}: '{k}' has shape {arrays[k].shape}, expected "
                            f"{'×'.join('any' if s is None else str(s) for s in shape)}. Expected {EXPECTED_FILE}.")
    return check_model_values(arrays, name, EXPECTED_FILE)


def load_flame_model(path: str | os.PathLike) -> FlameModel:
    """Read a FLAME .pkl (restricted unpickler) or .npz (allow_pickle=False)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        arrays = read_model_arrays(path, REQUIRED_KEYS, EXPECTED_FILE)
    else:
        if not path.is_file():
            raise UserError(f"Model file not found: {path}. Expected {EXPECTED_FILE}.")
        obj = restricted_load(path.read_bytes())
        if not isinstance(obj, dict):
            raise UserError(f"{path.name} does not hold a dict of arrays. Expected {EXPECTED_FILE}.")
        arrays = _check({k: _as_array(v) for k, v in obj.items() if k in REQUIRED_KEYS}, path.name)
    dirs = arrays["shapedirs"].astype(np.float64)
    n_shape = min(300, dirs.shape[-1])
    return FlameModel(
        v_template=arrays["v_template"].astype(np.float64),
        faces=arrays["f"].astype(np.int64),
        shapedirs=dirs[:, :, :n_shape],
        exprdirs=dirs[:, :, n_shape:n_shape + 100],
        posedirs=arrays["posedirs"].astype(np.float64),
        j_regressor=arrays["J_regressor"].astype(np.float64),
        weights=arrays["weights"].astype(np.float64),
        parents=_parents_from_kintree(arrays["kintree_table"]),
        source=str(path),
    )


def synthetic_flame_arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random but well-formed FLAME-shaped arrays for tests (no real model data)."""
    joints = np.array([[0, 0, 0], [0, -0.02, -0.01], [0, -0.03, 0.02], [0.03, 0.03, 0.06], [-0.03, 0.03, 0.06]])
    owner = rng.integers(0, NUM_JOINTS, NUM_VERTICES)
    owner[:NUM_JOINTS] = np.arange(NUM_JOINTS)
    weights = np.zeros((NUM_VERTICES, NUM_JOINTS))
    weights[np.arange(NUM_VERTICES), owner] = 1.0
    return {
        "v_template": joints[owner] + rng.normal(0, 0.05, (NUM_VERTICES, 3)),
        "f": rng.integers(0, NUM_VERTICES, (NUM_FACES, 3)).astype(np.uint32),
        "shapedirs": rng.normal(0, 0.001, (NUM_VERTICES, 3, 400)),
        "posedirs": rng.normal(0, 0.001, (NUM_VERTICES, 3, 36)),
        "J_regressor": weights.T / weights.sum(axis=0)[:, None],
        "weights": weights,
        "kintree_table": np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
    }
