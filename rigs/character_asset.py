"""Load Orator's default character (a prebuilt, bpy-free npz) as a frozen dataclass.

Conventions: metres, Z up, the character faces −Y (its left is +X), soles at z = 0, origin
between the feet; bone rolls in Blender's convention. Bones: the MPFB2 `game_engine` skeleton
(Unreal-mannequin names, `Root` the non-deforming top parent at the origin) plus `jaw`,
`eye_l`, `eye_r` under `head`. Shape keys: the 52 ARKit names in Apple order.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_CHARACTER_PATH = Path(__file__).resolve().parent / "default_character" / "default_character.npz"


@dataclass(frozen=True)
class CharacterAsset:
    """A skinned, shape-keyed character mesh. Arrays are read-only.

    vertices (V, 3) float32; faces (F, 4) int32 quads; uvs (F, 4, 2) float32 per face corner
    (empty when the source had none); face_materials (F,) uint8 into material_names (M,);
    material_colors (M, 4) linear RGBA; material_roughness (M,); vertex_parts (V,) uint8 into
    part_names (body, eye_l, eye_r, eyelashes, teeth, tongue); source_vertex_ids (V,) the
    MakeHuman hm08 vertex id of each vertex.
    bone_names (B,); bone_parents (B,) int32, −1 for the root, every parent before its children;
    bone_heads / bone_tails (B, 3) float32 rest positions; bone_rolls (B,) radians;
    bone_deform (B,) bool.
    weight_vertex / weight_bone / weight_value (N,): sparse skin weights, ≤ 4 per vertex,
    summing to 1 per vertex.
    shape_targets: ARKit name → (vertex ids (K,) int32, offsets (K, 3) float32 metres).
    """

    vertices: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray
    face_materials: np.ndarray
    material_names: tuple[str, ...]
    material_colors: np.ndarray
    material_roughness: np.ndarray
    vertex_parts: np.ndarray
    part_names: tuple[str, ...]
    source_vertex_ids: np.ndarray
    bone_names: tuple[str, ...]
    bone_parents: np.ndarray
    bone_heads: np.ndarray
    bone_tails: np.ndarray
    bone_rolls: np.ndarray
    bone_deform: np.ndarray
    weight_vertex: np.ndarray
    weight_bone: np.ndarray
    weight_value: np.ndarray
    shape_targets: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def num_vertices(self) -> int:
        return len(self.vertices)

    def bone_index(self, name: str) -> int:
        return self.bone_names.index(name)

    def dense_weights(self) -> np.ndarray:
        """(V, B) float32 skin weight matrix."""
        out = np.zeros((self.num_vertices, len(self.bone_names)), dtype=np.float32)
        out[self.weight_vertex, self.weight_bone] = self.weight_value
        return out

    def part_vertices(self, part: str) -> np.ndarray:
        """Vertex ids (K,) of one part (see part_names)."""
        return np.flatnonzero(self.vertex_parts == self.part_names.index(part))

    def shape_offsets(self, name: str) -> np.ndarray:
        """(V, 3) dense offsets of one shape key."""
        ids, offs = self.shape_targets[name]
        out = np.zeros_like(self.vertices)
        out[ids] = offs
        return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def load_character(path: str | Path) -> CharacterAsset:
    """Read a character npz written by `rigs.default_character.build_asset` (no pickles)."""
    with np.load(path, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    starts = d["shape_starts"]
    targets = {
        str(name): (_frozen(d["shape_indices"][a:b].astype(np.int32)),
                    _frozen(d["shape_offsets"][a:b].astype(np.float32)))
        for name, a, b in zip(d["shape_names"], starts[:-1], starts[1:])
    }
    arr = {k: _frozen(v) for k, v in d.items()}
    return CharacterAsset(
        vertices=arr["vertices"],
        faces=arr["faces"],
        uvs=arr["uvs"],
        face_materials=arr["face_materials"],
        material_names=tuple(str(s) for s in d["material_names"]),
        material_colors=arr["material_colors"],
        material_roughness=arr["material_roughness"],
        vertex_parts=arr["vertex_parts"],
        part_names=tuple(str(s) for s in d["part_names"]),
        source_vertex_ids=arr["source_vertex_ids"],
        bone_names=tuple(str(s) for s in d["bone_names"]),
        bone_parents=arr["bone_parents"],
        bone_heads=arr["bone_heads"],
        bone_tails=arr["bone_tails"],
        bone_rolls=arr["bone_rolls"],
        bone_deform=arr["bone_deform"],
        weight_vertex=arr["weight_vertex"],
        weight_bone=_frozen(d["weight_bone"].astype(np.int32)),
        weight_value=arr["weight_value"],
        shape_targets=targets,
    )


@lru_cache(maxsize=1)
def load_default_character() -> CharacterAsset:
    """Orator's default character (cached; shared read-only arrays)."""
    return load_character(DEFAULT_CHARACTER_PATH)
