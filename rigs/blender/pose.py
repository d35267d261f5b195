"""Read an armature into a RigDescription and set one frame of retargeted motion (bpy).

Keying every frame is the keyframe writer's job; `apply_pose` poses a single frame for tests and
previews.
"""
from __future__ import annotations

import numpy as np

from ..face_map import shape_key_values
from ..retarget import RetargetedMotion, RigDescription


def describe_armature(obj) -> RigDescription:
    """RigDescription of an armature object from its rest bones (`bone.matrix_local`, armature space)."""
    bones = obj.data.bones
    names = tuple(b.name for b in bones)
    index = {n: i for i, n in enumerate(names)}
    rest = np.array([np.array(b.matrix_local) for b in bones], dtype=np.float64).reshape(-1, 4, 4)
    lengths = np.array([b.length for b in bones], dtype=np.float64)
    parents = tuple(index[b.parent.name] if b.parent else -1 for b in bones)
    return RigDescription(names, parents, rest, lengths, obj.name)


def apply_pose(armature_obj, retargeted: RetargetedMotion, frame_index: int) -> None:
    """Set the pose bones of `armature_obj` to frame `frame_index` of `retargeted` (no keys)."""
    pose_bones = armature_obj.pose.bones
    q = retargeted.rotations[frame_index]
    for name, quat, mapped in zip(retargeted.bone_names, q, retargeted.mapped):
        pb = pose_bones.get(name)
        if pb is None:
            continue
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = [float(v) for v in quat]
        if name == retargeted.root_bone:
            pb.location = [float(v) for v in retargeted.root_location[frame_index]]


def apply_shape_key_frame(mesh_obj, weights: np.ndarray, matched: dict[int, str], frame_index: int) -> None:
    """Set matched shape keys of `mesh_obj` from weights (T, C) at one frame (ARKit or Exp### keys)."""
    keys = mesh_obj.data.shape_keys
    if keys is None:
        return
    for name, curve in shape_key_values(weights, matched).items():
        block = keys.key_blocks.get(name)
        if block is not None:
            block.value = float(curve[frame_index])
