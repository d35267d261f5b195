"""One mouth per rig: which mechanism opens it, and how open the lips are on a deformed mesh.

Mechanisms (decided once per character, never both at full strength):
- ``"shape_keys"``: the face mesh has an ARKit ``jawOpen`` key. That key already drops the chin and
  lower lip (ARKit heads, Ready Player Me, Faceit, Orator's default character), so the rig's jaw
  bone is left alone; keying it too opened the default character's lips by ≈ 1.5° of jaw on top of
  the key and kept them 3.1 mm apart (median) at p/b/m where the curves said closed.
- ``"jaw_bone"``: no ``jawOpen`` key (FLAME/SMPL-X ``Exp###`` expressions, which are built to
  complement the jaw joint, or a mesh without face keys): the jaw bone opens the mouth.

Lip gap: the default character's upper and lower lip midlines as polylines in the sagittal
plane; the gap is the shortest distance between them, 0 when they touch or cross.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ._backend import face_vocabulary
from .face_map import match_arkit_shape_keys

SHAPE_KEYS = "shape_keys"
JAW_BONE = "jaw_bone"

# Midline vertices of the default character's lips (MakeHuman hm08 ids), outside → inside the
# mouth: the upper lip's vermilion curls from 509 down to its lowest point 474 and back up
# inside; the lower lip's from 494 up to 523 and back down inside.
UPPER_LIP_HM08 = (509, 468, 474, 520, 537, 554)
LOWER_LIP_HM08 = (494, 493, 523, 540, 557, 574)


def mouth_mechanism(face_source: str, face_map: dict[int, str]) -> str:
    """SHAPE_KEYS when the face channels include an ARKit jawOpen key, else JAW_BONE.

    face_source/face_map: what `addon.apply_take.face_channels` returns ('arkit' or
    'expressions', channel index → shape key name).
    """
    if face_source == "arkit" and face_vocabulary.ARKIT_INDEX["jawOpen"] in face_map:
        return SHAPE_KEYS
    return JAW_BONE


def mouth_mechanism_for_keys(key_names: Iterable[str]) -> str:
    """The mechanism for a mesh with these shape keys (ARKit names matched with their aliases)."""
    matched = match_arkit_shape_keys(key_names)
    return mouth_mechanism("arkit" if matched else "expressions", matched)


def keyed_bone_mask(bone_names: Iterable[str], jaw_bone: str | None, mechanism: str) -> np.ndarray:
    """(B,) bool: False for the jaw bone when the shape keys open the mouth, True elsewhere."""
    names = list(bone_names)
    mask = np.ones(len(names), dtype=bool)
    if mechanism == SHAPE_KEYS and jaw_bone is not None and jaw_bone in names:
        mask[names.index(jaw_bone)] = False
    return mask


def lip_midline_ids(source_vertex_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(upper (6,), lower (6,)) vertex ids of the lip midlines in a mesh built from hm08.

    source_vertex_ids (V,): the hm08 id of each vertex (`CharacterAsset.source_vertex_ids`).
    """
    lookup = {int(s): i for i, s in enumerate(np.asarray(source_vertex_ids))}
    missing = [s for s in UPPER_LIP_HM08 + LOWER_LIP_HM08 if s not in lookup]
    if missing:
        raise ValueError(f"not an hm08-based mesh: lip vertices {missing} are missing")
    return (np.array([lookup[s] for s in UPPER_LIP_HM08]),
            np.array([lookup[s] for s in LOWER_LIP_HM08]))


def _segment_distances(p0, p1, q0, q1):
    """Shortest distances between 2-D segments p0–p1 (..., P, 1, 2) and q0–q1 (..., 1, Q, 2)."""
    def point_to_segment(x, a, b):
        ab = b - a
        t = np.clip(((x - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-18), 0.0, 1.0)
        return np.linalg.norm(x - (a + t[..., None] * ab), axis=-1)

    d = np.minimum(np.minimum(point_to_segment(p0, q0, q1), point_to_segment(p1, q0, q1)),
                   np.minimum(point_to_segment(q0, p0, p1), point_to_segment(q1, p0, p1)))

    def cross(o, a, b):
        return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (b[..., 0] - o[..., 0])

    crossing = ((cross(p0, p1, q0) * cross(p0, p1, q1) < 0) & (cross(q0, q1, p0) * cross(q0, q1, p1) < 0))
    return np.where(crossing, 0.0, d)


def lip_gap(coords: np.ndarray, upper: np.ndarray, lower: np.ndarray, forward_axis: int = 1,
            up_axis: int = 2) -> np.ndarray:
    """Lip gap per frame in the mesh's units.

    coords (T, V, 3) or (V, 3) deformed vertex positions; upper/lower (K,) midline vertex ids in
    order along each lip. Both polylines are projected on the sagittal plane (forward, up); the
    gap is their shortest distance, 0 where they touch or cross. Returns (T,) or a scalar.
    """
    co = np.asarray(coords, dtype=np.float64)
    single = co.ndim == 2
    co = co[None] if single else co
    plane = co[..., [forward_axis, up_axis]]
    u, l = plane[:, upper], plane[:, lower]
    d = _segment_distances(u[:, :-1, None], u[:, 1:, None], l[:, None, :-1], l[:, None, 1:])
    gap = d.reshape(len(co), -1).min(axis=1)
    return float(gap[0]) if single else gap
