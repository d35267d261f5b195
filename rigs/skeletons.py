"""Humanoid rig families, recognised by bone names, and which SMPL-X joints drive which of their bones.

The maps are data: one table per family, SMPL-X joint name → target bone name(s). A joint may drive
several target bones:
- a *bend* chain distributes the rotation of consecutive SMPL-X joints (spine1..3, neck) over N
  target bones, so a 5-bone spine bends as much in total as SMPL-X's 3-bone one;
- a *split* chain drives collinear pieces of one segment (twist bones such as Rigify's
  `DEF-upper_arm.L` + `DEF-upper_arm.L.001`), each taking the whole segment rotation.
Target bones that no table names keep their rest pose relative to their parent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ._backend import skeleton

try:
    from ..backend.errors import UserError
except (ImportError, ValueError):
    from backend.errors import UserError

J = skeleton.JOINT_INDEX
SIDES = (("left", "l"), ("right", "r"))
FINGERS = ("index", "middle", "pinky", "ring", "thumb")


@dataclass(frozen=True)
class BoneChain:
    """SMPL-X joints (parent first) driving target bones (parent first).

    split=False: a bend chain (len(joints) ≥ 1 joints spread over len(bones) bones).
    split=True: one joint, its segment cut into collinear pieces (twist bones).
    """

    joints: tuple[int, ...]
    bones: tuple[str, ...]
    split: bool = False


@dataclass(frozen=True)
class SkeletonMap:
    """How one rig family is driven. `root_bone` takes the pelvis rotation and the root translation."""

    family: str
    chains: tuple[BoneChain, ...]
    root_bone: str
    jaw_bone: str | None = None

    def bones_for_joint(self, joint: int) -> tuple[str, ...]:
        """Target bones driven by one SMPL-X joint (empty when the rig lacks it)."""
        for chain in self.chains:
            if joint in chain.joints:
                return chain.bones
        return ()

    @property
    def mapped_bones(self) -> tuple[str, ...]:
        return tuple(b for c in self.chains for b in c.bones)


# Joints every humanoid rig must have for retargeting to make sense.
CORE_JOINTS: tuple[str, ...] = (
    "pelvis", "spine1", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)


def _sided(table: dict[str, str | tuple[str, ...]], sides: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Expand `{side}` placeholders: 'left_{x}' keys get sides['left'] in the bone names."""
    out: dict[str, tuple[str, ...]] = {}
    for joint, bones in table.items():
        bones = (bones,) if isinstance(bones, str) else bones
        if "{s}" in joint:
            for long, _ in SIDES:
                out[joint.replace("{s}", long)] = tuple(b.replace("{s}", sides[long]) for b in bones)
        else:
            out[joint] = bones
    return out


def _finger_table(pattern: str, names: dict[str, str], segments=("1", "2", "3")) -> dict[str, str]:
    """'left_index1' → pattern.format(finger=names['index'], seg='1', s='{s}')."""
    return {f"{{s}}_{f}{i + 1}": pattern.format(finger=names[f], seg=seg, s="{s}")
            for f in FINGERS for i, seg in enumerate(segments)}


# --- family tables -------------------------------------------------------------------------------
# Unreal mannequin / MPFB2 game_engine; Orator's default character is this plus jaw and eyes.
_UNREAL = {
    "pelvis": "pelvis", "neck": "neck_01", "head": "head", "jaw": "jaw",
    "left_eye_smplhf": "eye_l", "right_eye_smplhf": "eye_r",
    "{s}_collar": "clavicle_{s}", "{s}_shoulder": "upperarm_{s}", "{s}_elbow": "lowerarm_{s}",
    "{s}_wrist": "hand_{s}", "{s}_hip": "thigh_{s}", "{s}_knee": "calf_{s}",
    "{s}_ankle": "foot_{s}", "{s}_foot": "ball_{s}",
    **_finger_table("{finger}_0{seg}_{s}", {f: f for f in FINGERS}),
}
_MIXAMO = {
    "pelvis": "Hips", "neck": "Neck", "head": "Head",
    "left_eye_smplhf": "LeftEye", "right_eye_smplhf": "RightEye",
    "{s}_collar": "{s}Shoulder", "{s}_shoulder": "{s}Arm", "{s}_elbow": "{s}ForeArm",
    "{s}_wrist": "{s}Hand", "{s}_hip": "{s}UpLeg", "{s}_knee": "{s}Leg", "{s}_ankle": "{s}Foot",
    "{s}_foot": "{s}ToeBase",
    **_finger_table("{s}Hand{finger}{seg}", {"index": "Index", "middle": "Middle", "pinky": "Pinky",
                                             "ring": "Ring", "thumb": "Thumb"}),
}
_RIGIFY = {
    "pelvis": "DEF-spine", "jaw": "DEF-jaw",
    "left_eye_smplhf": "DEF-eye.L", "right_eye_smplhf": "DEF-eye.R",
    "{s}_collar": "DEF-shoulder.{s}",
    "{s}_shoulder": ("DEF-upper_arm.{s}", "DEF-upper_arm.{s}.001"),
    "{s}_elbow": ("DEF-forearm.{s}", "DEF-forearm.{s}.001"),
    "{s}_wrist": "DEF-hand.{s}",
    "{s}_hip": ("DEF-thigh.{s}", "DEF-thigh.{s}.001"),
    "{s}_knee": ("DEF-shin.{s}", "DEF-shin.{s}.001"),
    "{s}_ankle": "DEF-foot.{s}", "{s}_foot": "DEF-toe.{s}",
    **_finger_table("DEF-{finger}.0{seg}.{s}", {"index": "f_index", "middle": "f_middle",
                                                "pinky": "f_pinky", "ring": "f_ring",
                                                "thumb": "thumb"}),
}
_VROID = {
    "pelvis": "J_Bip_C_Hips", "neck": "J_Bip_C_Neck", "head": "J_Bip_C_Head",
    "left_eye_smplhf": "J_Adj_L_FaceEye", "right_eye_smplhf": "J_Adj_R_FaceEye",
    "{s}_collar": "J_Bip_{s}_Shoulder", "{s}_shoulder": "J_Bip_{s}_UpperArm",
    "{s}_elbow": "J_Bip_{s}_LowerArm", "{s}_wrist": "J_Bip_{s}_Hand",
    "{s}_hip": "J_Bip_{s}_UpperLeg", "{s}_knee": "J_Bip_{s}_LowerLeg",
    "{s}_ankle": "J_Bip_{s}_Foot", "{s}_foot": "J_Bip_{s}_ToeBase",
    **_finger_table("J_Bip_{s}_{finger}{seg}", {"index": "Index", "middle": "Middle",
                                                "pinky": "Little", "ring": "Ring", "thumb": "Thumb"}),
}
# VRM humanoid bone names (VRM 1.0 / 0.x humanoid spec), as UniVRM and the VRM add-on name the bones.
_VRM_HUMANOID = {
    "pelvis": "hips", "neck": "neck", "head": "head", "jaw": "jaw",
    "left_eye_smplhf": "leftEye", "right_eye_smplhf": "rightEye",
    "{s}_collar": "{s}Shoulder", "{s}_shoulder": "{s}UpperArm", "{s}_elbow": "{s}LowerArm",
    "{s}_wrist": "{s}Hand", "{s}_hip": "{s}UpperLeg", "{s}_knee": "{s}LowerLeg", "{s}_ankle": "{s}Foot",
    "{s}_foot": "{s}Toes",
    **_finger_table("{s}{finger}{seg}", {"index": "Index", "middle": "Middle", "pinky": "Little",
                                         "ring": "Ring", "thumb": "Thumb"},
                    segments=("Proximal", "Intermediate", "Distal")),
}
# VRM 1.0 renamed the thumb: Metacarpal, Proximal, Distal (0.x: Proximal, Intermediate, Distal).
_VRM1_THUMB = {f"{{s}}_thumb{i + 1}": "{s}Thumb" + seg for i, seg in enumerate(("Metacarpal", "Proximal", "Distal"))}
_MPFB_DEFAULT = {
    "pelvis": "root", "head": "head", "jaw": "jaw",
    "left_eye_smplhf": "eye.L", "right_eye_smplhf": "eye.R",
    "{s}_collar": ("clavicle.{s}", "shoulder01.{s}"),
    "{s}_shoulder": ("upperarm01.{s}", "upperarm02.{s}"),
    "{s}_elbow": ("lowerarm01.{s}", "lowerarm02.{s}"),
    "{s}_wrist": "wrist.{s}",
    "{s}_hip": ("upperleg01.{s}", "upperleg02.{s}"),
    "{s}_knee": ("lowerleg01.{s}", "lowerleg02.{s}"),
    "{s}_ankle": "foot.{s}",
    **_finger_table("finger{finger}-{seg}.{s}", {"thumb": "1", "index": "2", "middle": "3",
                                                 "ring": "4", "pinky": "5"}),
}
_SMPLX = {name: name for name in skeleton.JOINT_NAMES}

# Which joints are collinear pieces (split) rather than a bend chain, per family.
_SPLIT_JOINTS = {
    "rigify": {f"{s}_{j}" for s, _ in SIDES for j in ("shoulder", "elbow", "hip", "knee")},
    "mpfb_default": {f"{s}_{j}" for s, _ in SIDES for j in ("collar", "shoulder", "elbow", "hip", "knee")},
}


def _numbered(names: set[str], prefix: str, suffix: str = "") -> list[str]:
    """Bones named prefix + number (+ suffix), sorted by the number."""
    pat = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + "$")
    found = [(int(m.group(1)), n) for n in names if (m := pat.match(n))]
    return [n for _, n in sorted(found)]


def _chains_from_table(table: dict[str, tuple[str, ...]], names: set[str],
                       split_joints: set[str], spine: Sequence[str], neck: Sequence[str]) -> list[BoneChain]:
    chains: list[BoneChain] = []
    spine = [b for b in spine if b in names]
    neck = [b for b in neck if b in names]
    if spine:
        chains.append(BoneChain((J["spine1"], J["spine2"], J["spine3"]), tuple(spine)))
    if neck:
        chains.append(BoneChain((J["neck"],), tuple(neck)))
    for joint, bones in table.items():
        if joint in ("spine1", "spine2", "spine3") or (joint == "neck" and neck):
            continue
        present = tuple(b for b in bones if b in names)
        if present:
            chains.append(BoneChain((J[joint],), present, split=joint in split_joints and len(present) > 1))
    return chains


def _rigify_spine(names: set[str], parent_of: dict[str, str]) -> tuple[list[str], list[str], str | None]:
    """Split Rigify's DEF-spine.001.. into torso, neck and head.

    The head is the last; the neck starts after the bone DEF-shoulder.L hangs from when parents are
    known, otherwise Rigify's default of two neck bones.
    """
    chain = _numbered(names, "DEF-spine.")
    if not chain:
        return [], [], None
    head, rest = chain[-1], chain[:-1]
    shoulder_parent = parent_of.get("DEF-shoulder.L")
    if shoulder_parent in rest:
        cut = rest.index(shoulder_parent) + 1
    else:
        cut = max(len(rest) - 2, 1)
    return rest[:cut], rest[cut:], head


def _build(family: str, names: set[str], parent_of: dict[str, str]) -> SkeletonMap | None:
    """Map for one family, or None when its root bone is absent."""
    if family in ("orator_default", "unreal"):
        table = _sided(_UNREAL, {"left": "l", "right": "r"})
        spine = _numbered(names, "spine_0")
        neck = _numbered(names, "neck_0")
        chains = _chains_from_table(table, names, set(), spine, neck)
        return SkeletonMap(family, tuple(chains), "pelvis", "jaw" if "jaw" in names else None)
    if family == "mixamo":
        hips = next((n for n in names if re.fullmatch(r"mixamorig\d*[:_]Hips", n)), None)
        if hips is None:
            return None
        prefix = hips[:-4]
        table = {j: tuple(prefix + b for b in bones)
                 for j, bones in _sided(_MIXAMO, {"left": "Left", "right": "Right"}).items()}
        spine = [prefix + "Spine"] + _numbered(names, prefix + "Spine")
        neck = [prefix + "Neck"] + _numbered(names, prefix + "Neck")
        chains = _chains_from_table(table, names, set(), spine, neck)
        return SkeletonMap(family, tuple(chains), hips, None)
    if family == "rigify":
        table = _sided(_RIGIFY, {"left": "L", "right": "R"})
        torso, neck, head = _rigify_spine(names, parent_of)
        if head:
            table["head"] = (head,)
        chains = _chains_from_table(table, names, _SPLIT_JOINTS["rigify"], torso, neck)
        return SkeletonMap(family, tuple(chains), "DEF-spine", "DEF-jaw" if "DEF-jaw" in names else None)
    if family == "vroid":
        table = _sided(_VROID, {"left": "L", "right": "R"})
        spine = ["J_Bip_C_Spine", "J_Bip_C_Chest", "J_Bip_C_UpperChest"]
        chains = _chains_from_table(table, names, set(), spine, [])
        return SkeletonMap(family, tuple(chains), "J_Bip_C_Hips", None)
    if family == "vrm_humanoid":
        vrm = dict(_VRM_HUMANOID)
        if "leftThumbMetacarpal" in names or "rightThumbMetacarpal" in names:
            vrm.update(_VRM1_THUMB)
        table = _sided(vrm, {"left": "left", "right": "right"})
        chains = _chains_from_table(table, names, set(), ["spine", "chest", "upperChest"], [])
        return SkeletonMap(family, tuple(chains), "hips", "jaw" if "jaw" in names else None)
    if family == "mpfb_default":
        table = _sided(_MPFB_DEFAULT, {"left": "L", "right": "R"})
        # spine05 (lowest) rides with the hips like SMPL-X's pelvis segment; spine04..01 bend.
        spine = list(reversed(_numbered(names, "spine0")))[1:]
        neck = _numbered(names, "neck0")
        chains = _chains_from_table(table, names, _SPLIT_JOINTS["mpfb_default"], spine, neck)
        return SkeletonMap(family, tuple(chains), "root", "jaw" if "jaw" in names else None)
    if family == "smplx":
        table = {j: (b,) for j, b in _SMPLX.items()}
        for side in ("left", "right"):  # some exports drop the `_smplhf` suffix
            if f"{side}_eye_smplhf" not in names and f"{side}_eye" in names:
                table[f"{side}_eye_smplhf"] = (f"{side}_eye",)
        chains = _chains_from_table(table, names, set(), ["spine1", "spine2", "spine3"], ["neck"])
        return SkeletonMap(family, tuple(chains), "pelvis", "jaw" if "jaw" in names else None)
    raise ValueError(f"unknown family {family!r}")


FAMILIES: tuple[str, ...] = ("orator_default", "unreal", "mixamo", "rigify", "vroid", "vrm_humanoid", "mpfb_default",
                             "smplx")
_EXAMPLES = ("pelvis/spine_01/upperarm_l (Unreal, MPFB2 game_engine)", "mixamorig:Hips (Mixamo)",
             "DEF-spine/DEF-upper_arm.L (Rigify)", "J_Bip_C_Hips (VRoid)", "hips/leftUpperArm (VRM humanoid)",
             "root/spine05/upperarm01.L (MPFB2 default)",
             "pelvis/left_shoulder (SMPL-X)")


def core_coverage(mapping: SkeletonMap) -> float:
    """Fraction of CORE_JOINTS the map drives."""
    return sum(bool(mapping.bones_for_joint(J[j])) for j in CORE_JOINTS) / len(CORE_JOINTS)


# Rigify, before and after Generate Rig (rigs/rigify.py drives the generated rig's controls)
# The human metarig's bones (before Generate Rig): the spine and limbs without DEF-/ORG- prefixes.
METARIG_BONES = frozenset({"spine", "spine.001", "spine.003", "upper_arm.L", "forearm.L", "hand.L",
                           "thigh.L", "shin.L", "foot.L"})
GENERATED_BONES = frozenset({"torso", "DEF-spine", "upper_arm_fk.L", "upper_arm_parent.L", "thigh_fk.L"})


def is_metarig(bone_names) -> bool:
    """A Rigify metarig that has not been generated into a rig yet."""
    names = set(bone_names)
    return METARIG_BONES <= names and "DEF-spine" not in names


def is_generated_rig(bone_names) -> bool:
    """A rig made by Rigify's Generate Rig (its FK controls and IK/FK switch bones are there)."""
    return GENERATED_BONES <= set(bone_names)


def detect_skeleton(bone_names: Sequence[str], parents: Sequence[int] | None = None,
                    armature_name: str = "armature") -> SkeletonMap:
    """Recognise the rig family from bone names and return its SMPL-X map.

    parents: optional parent index per bone (−1 for roots); Rigify uses it to find where the neck
    starts. Raises UserError when no family covers every core joint (pelvis, spine, head, arms, legs).
    """
    names = set(bone_names)
    if is_metarig(names):
        raise UserError(f"'{armature_name}' is a Rigify metarig: generate the rig first (Armature properties → "
                        "Rigify → Generate Rig), then choose the generated rig as the character")
    parent_of = {}
    if parents is not None:
        parent_of = {n: bone_names[p] for n, p in zip(bone_names, parents) if p >= 0}
    best: tuple[float, int, SkeletonMap] | None = None
    for family in FAMILIES:
        m = _build(family, names, parent_of)
        if m is None or m.root_bone not in names:
            continue
        if family == "orator_default" and not {"jaw", "eye_l", "eye_r"} <= names:
            continue
        score = (core_coverage(m), len(m.mapped_bones))
        if best is None or score > best[:2]:
            best = (*score, m)
    if best is None or best[0] < 1.0:
        found = ", ".join(sorted(names)[:12]) + (" …" if len(names) > 12 else "")
        missing = ""
        if best is not None:
            missing = " Missing for the closest match (" + best[2].family + "): " + ", ".join(
                j for j in CORE_JOINTS if not best[2].bones_for_joint(J[j])) + "."
        raise UserError(
            f"'{armature_name}' does not look like a humanoid rig Orator can drive.{missing} "
            f"Bones found: {found}. Expected names like " + "; ".join(_EXAMPLES) + ".")
    return best[2]
