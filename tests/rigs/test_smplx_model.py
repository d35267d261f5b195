"""Reading users' SMPL-X and FLAME files: well-formed files load, anything else is a clear UserError."""
from __future__ import annotations

import io
import os
import pickle
import sys
import types

import numpy as np
import pytest
import scipy.sparse

from backend.errors import UserError
from backend.vocabulary import skeleton
from rigs.flame_model import (NUM_VERTICES as FLAME_V, ChumpyArrayStub, load_flame_model, restricted_load,
                              synthetic_flame_arrays)
from rigs.smplx_model import REQUIRED_KEYS, load_smplx_model, write_synthetic_smplx


@pytest.fixture(scope="module")
def smplx_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz"
    write_synthetic_smplx(path, np.random.default_rng(0))
    return path


def test_synthetic_smplx_loads(smplx_file):
    m = load_smplx_model(smplx_file)
    assert m.v_template.shape == (10475, 3) and m.faces.shape == (20908, 3)
    assert m.shapedirs.shape == (10475, 3, 300) and m.exprdirs.shape == (10475, 3, 100)
    assert m.posedirs.shape == (10475, 3, 486)
    assert m.parents == skeleton.PARENTS
    assert m.hand_mean().shape == (30, 3)
    # joints = J_regressor · v_template; the synthetic body is built around the neutral skeleton
    offsets = m.rest_offsets()
    assert np.allclose(offsets[1:], np.asarray(skeleton.REST_OFFSETS)[1:], atol=0.01)
    betas = np.zeros(10)
    betas[0] = 2.0
    assert np.allclose(m.shaped_vertices(betas) - m.v_template, 2.0 * m.shapedirs[:, :, 0])


def _rewrite(src, dst, drop=(), replace=None, allow_pickle=False):
    with np.load(src) as z:
        d = {k: z[k] for k in z.files if k not in drop}
    d.update(replace or {})
    np.savez(dst, **d)


def test_missing_keys_named(smplx_file, tmp_path):
    bad = tmp_path / "bad.npz"
    _rewrite(smplx_file, bad, drop=("posedirs", "hands_meanl"))
    with pytest.raises(UserError, match=r"lacks posedirs, hands_meanl\. Expected an SMPL-X model file"):
        load_smplx_model(bad)


def test_wrong_shape_and_object_arrays_rejected(smplx_file, tmp_path):
    bad = tmp_path / "bad_shape.npz"
    _rewrite(smplx_file, bad, replace={"v_template": np.zeros((6890, 3))})
    with pytest.raises(UserError, match=r"'v_template' has shape \(6890, 3\)"):
        load_smplx_model(bad)
    obj = tmp_path / "object.npz"
    _rewrite(smplx_file, obj, replace={"hands_meanl": np.array([{"x": 1}, None], dtype=object)})
    with pytest.raises(UserError, match="pickled object array"):
        load_smplx_model(obj)
    with pytest.raises(UserError, match="not found"):
        load_smplx_model(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="not a readable"):
        load_smplx_model(tmp_path / "junk.npz")


def test_smpl_tree_is_rejected(smplx_file, tmp_path):
    bad = tmp_path / "tree.npz"
    with np.load(smplx_file) as z:
        kt = z["kintree_table"].copy()
    kt[0, 15] = 9  # head hanging from spine3: not SMPL-X's tree
    _rewrite(smplx_file, bad, replace={"kintree_table": kt})
    with pytest.raises(UserError, match="not SMPL-X's 55-joint tree"):
        load_smplx_model(bad)


# --- FLAME and the restricted unpickler ----------------------------------------------------------

class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_unpickler_rejects_code():
    with pytest.raises(UserError, match=r"Refused to load '(posix|os|nt)\.system'"):
        restricted_load(pickle.dumps({"v_template": _Evil()}))
    with pytest.raises(UserError, match="builtins.eval"):
        restricted_load(b"cbuiltins\neval\n(S'1+1'\ntR.")


def _flame_pickle(arrays: dict, with_chumpy: bool) -> bytes:
    """A FLAME-like pickle: numpy arrays, a scipy csc J_regressor and (optionally) a chumpy.ch.Ch."""
    d = dict(arrays)
    d["J_regressor"] = scipy.sparse.csc_matrix(d["J_regressor"])
    if not with_chumpy:
        return pickle.dumps(d, protocol=2)
    # pickle a stand-in class that claims to be chumpy.ch.Ch, as the real files reference it
    chumpy, ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    ch.Ch = Ch
    sys.modules.update({"chumpy": chumpy, "chumpy.ch": ch})
    try:
        d["shapedirs"] = Ch(d["shapedirs"])
        return pickle.dumps(d, protocol=2)
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]


@pytest.mark.parametrize("with_chumpy", [False, True])
def test_flame_pkl_loads_with_numpy_scipy_and_chumpy_state(tmp_path, with_chumpy):
    arrays = synthetic_flame_arrays(np.random.default_rng(1))
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(_flame_pickle(arrays, with_chumpy))
    m = load_flame_model(path)
    assert m.v_template.shape == (FLAME_V, 3)
    assert m.shapedirs.shape == (FLAME_V, 3, 300) and m.exprdirs.shape == (FLAME_V, 3, 100)
    np.testing.assert_allclose(m.exprdirs, arrays["shapedirs"][:, :, 300:])
    np.testing.assert_allclose(m.j_regressor, arrays["J_regressor"])
    assert m.parents == (-1, 0, 1, 1, 1)
    assert "chumpy" not in sys.modules


def test_flame_npz_and_errors(tmp_path):
    arrays = synthetic_flame_arrays(np.random.default_rng(2))
    np.savez(tmp_path / "flame.npz", **arrays)
    assert load_flame_model(tmp_path / "flame.npz").faces.shape == (9976, 3)
    del arrays["posedirs"]
    (tmp_path / "short.pkl").write_bytes(pickle.dumps(arrays))
    with pytest.raises(UserError, match="lacks posedirs"):
        load_flame_model(tmp_path / "short.pkl")
    stub = ChumpyArrayStub()
    stub.__setstate__({"a": 1})
    with pytest.raises(UserError, match="chumpy expression"):
        stub.array()
    other = pickle.dumps(io.BytesIO(b""))
    with pytest.raises(UserError, match="Refused"):
        restricted_load(other)


def test_required_keys_documented():
    assert set(REQUIRED_KEYS) >= {"v_template", "f", "J_regressor", "weights", "kintree_table", "shapedirs",
                                  "posedirs", "hands_meanl", "hands_meanr"}
