"""Measure a character's face as Blender shows it: the depsgraph-evaluated mesh (shape keys and
armature), brought back into the head's rest frame so head turns do not change the numbers."""
from __future__ import annotations

import bpy
import numpy as np

from ..mouth import lip_gap


def evaluated_coords(mesh_obj, depsgraph=None) -> np.ndarray:
    """(V, 3) float64 world positions of the evaluated mesh at the current frame."""
    depsgraph = depsgraph or bpy.context.evaluated_depsgraph_get()
    evaluated = mesh_obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        co = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
        mesh.vertices.foreach_get("co", co)
    finally:
        evaluated.to_mesh_clear()
    mw = np.array(mesh_obj.matrix_world, dtype=np.float64)
    return co.reshape(-1, 3).astype(np.float64) @ mw[:3, :3].T + mw[:3, 3]


def head_rest_matrix(armature_obj, head_bone: str = "head") -> np.ndarray:
    """(4, 4) world matrix that takes the posed head back to its rest place (inverse of its motion)."""
    pose_bone = armature_obj.pose.bones[head_bone]
    motion = armature_obj.matrix_world @ pose_bone.matrix @ pose_bone.bone.matrix_local.inverted() \
        @ armature_obj.matrix_world.inverted()
    return np.array(motion.inverted(), dtype=np.float64)


def lip_gaps_at_frames(scene, armature_obj, mesh_obj, frames, upper, lower, head_bone: str = "head"):
    """Lip gap (F,) in metres of the evaluated mesh at each scene frame (upper/lower: lip midline
    vertex ids, see `rigs.mouth`). The current frame is restored afterwards."""
    current = scene.frame_current
    out = np.zeros(len(frames))
    try:
        for k, frame in enumerate(frames):
            scene.frame_set(int(frame))
            co = evaluated_coords(mesh_obj)
            rest = head_rest_matrix(armature_obj, head_bone)
            co = co @ rest[:3, :3].T + rest[:3, 3]
            out[k] = lip_gap(co, upper, lower)
    finally:
        scene.frame_set(current)
    return out
