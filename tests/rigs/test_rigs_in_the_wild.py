"""Rigs and heads users bring: a VRM humanoid skeleton (VRM 1.0 and 0.x thumbs) and a Mixamo skeleton are
recognised and driven along the SMPL-X segments (bpy-free here, in Blender below); a Rigify metarig is
told to generate first; Oculus-viseme and VRM-expression heads are recognised by their shape keys."""
from __future__ import annotations

import numpy as np
import pytest

from backend.errors import UserError
from backend.vocabulary import skeleton
from backend.vocabulary.face import ARKIT_INDEX
from rigs.face_map import face_source, face_weights, match_vrm_keys
from rigs.rigify import control_drives
from rigs.skeletons import is_generated_rig, is_metarig
from rigs.skeletons import detect_skeleton

from .test_retarget import (TOL_DEG, J, _rest_blender, _rig, _segment_tail, canonical_poses, direction_errors,
                            mixamo_like_rig)

VRM_TABLE = {"pelvis": "hips", "spine1": "spine", "spine2": "chest", "spine3": "upperChest", "neck": "neck",
             "head": "head", "jaw": "jaw", "left_eye_smplhf": "leftEye", "right_eye_smplhf": "rightEye"}


def vrm_humanoid_rig(rng, vrm1_thumbs: bool = True):
    """A T-pose skeleton with VRM humanoid bone names (as UniVRM / the VRM add-on name them), metres."""
    p = _rest_blender()
    table = dict(VRM_TABLE)
    thumb = ("Metacarpal", "Proximal", "Distal") if vrm1_thumbs else ("Proximal", "Intermediate", "Distal")
    for s in ("left", "right"):
        table.update({f"{s}_collar": f"{s}Shoulder", f"{s}_shoulder": f"{s}UpperArm", f"{s}_elbow": f"{s}LowerArm",
                      f"{s}_wrist": f"{s}Hand", f"{s}_hip": f"{s}UpperLeg", f"{s}_knee": f"{s}LowerLeg",
                      f"{s}_ankle": f"{s}Foot", f"{s}_foot": f"{s}Toes"})
        for f, F in (("index", "Index"), ("middle", "Middle"), ("pinky", "Little"), ("ring", "Ring")):
            for i, seg in enumerate(("Proximal", "Intermediate", "Distal"), start=1):
                table[f"{s}_{f}{i}"] = f"{s}{F}{seg}"
        for i, seg in enumerate(thumb, start=1):
            table[f"{s}_thumb{i}"] = f"{s}Thumb{seg}"
    joints = [j for j in range(55) if skeleton.JOINT_NAMES[j] in table]
    names = [table[skeleton.JOINT_NAMES[j]] for j in joints]
    parents = [table[skeleton.JOINT_NAMES[skeleton.PARENTS[j]]] if skeleton.PARENTS[j] >= 0 else None
               for j in joints]
    heads = np.array([p[j] for j in joints])
    tails = np.array([_segment_tail(j, p) for j in joints])
    return _rig(names, parents, heads, tails, rng, "vrm_humanoid")


@pytest.mark.parametrize("vrm1", [True, False])
def test_vrm_humanoid_skeleton_is_driven(vrm1):
    rig = vrm_humanoid_rig(np.random.default_rng(8), vrm1_thumbs=vrm1)
    mapping = detect_skeleton(rig.bone_names, rig.parents)
    assert mapping.family == "vrm_humanoid" and mapping.root_bone == "hips" and mapping.jaw_bone == "jaw"
    assert mapping.bones_for_joint(J["left_thumb1"]) == ("leftThumbMetacarpal" if vrm1 else "leftThumbProximal",)
    assert mapping.bones_for_joint(J["spine1"]) == ("spine", "chest", "upperChest")
    assert len(mapping.mapped_bones) == len(rig.bone_names)  # every humanoid bone is driven
    errors = direction_errors(rig, canonical_poses())
    assert max(errors.values()) < TOL_DEG, max(errors.items(), key=lambda kv: kv[1])


def test_rigify_metarig_and_generated_rig_are_told_apart():
    metarig = ["spine", "spine.001", "spine.002", "spine.003", "spine.004", "upper_arm.L", "forearm.L", "hand.L",
               "thigh.L", "shin.L", "foot.L", "upper_arm.R"]
    assert is_metarig(metarig) and not is_generated_rig(metarig)
    with pytest.raises(UserError, match="Rigify metarig: generate the rig first"):
        detect_skeleton(metarig, None, "metarig")
    generated = ["torso", "chest", "neck", "head", "DEF-spine"] + [f"DEF-spine.00{i}" for i in range(1, 7)] + [
        "upper_arm_parent.L", "upper_arm_fk.L", "DEF-upper_arm.L", "DEF-shoulder.L", "shoulder.L", "thigh_fk.L",
        "DEF-thigh.L"]
    assert is_generated_rig(generated) and not is_metarig(generated)
    drives = {d.control: (d.target, d.parent) for d in control_drives(generated)}
    assert drives["torso"] == ("DEF-spine", None)
    assert drives["chest"] == ("DEF-spine.003", "DEF-spine")
    assert drives["head"] == ("DEF-spine.006", "DEF-spine.004")
    assert drives["upper_arm_fk.L"] == ("DEF-upper_arm.L", "DEF-shoulder.L")
    assert "forearm_fk.L" not in drives  # only controls whose deform bones exist


OCULUS = ["viseme_" + v for v in "sil PP FF TH DD kk CH SS nn RR aa E I O U".split()]


def test_heads_in_the_wild_are_recognised():
    # Ready Player Me: the 15 visemes plus a few eye/mouth keys that are not an ARKit set
    source, matched = face_source(["Basis", *OCULUS, "eyeBlinkLeft", "eyeBlinkRight", "mouthOpen", "mouthSmile"])
    assert source == "oculus" and sorted(matched)[:15] == list(range(15))
    # its ARKit-named eye keys blink with the ARKit curves (channel 15 + ARKit index)
    assert matched[15 + ARKIT_INDEX["eyeBlinkLeft"]] == "eyeBlinkLeft" and len(matched) == 17
    arkit = np.random.default_rng(0).uniform(0, 1, (5, 52))
    weights = face_weights("oculus", arkit, None)
    np.testing.assert_array_equal(weights[:, 15 + ARKIT_INDEX["eyeBlinkRight"]], arkit[:, ARKIT_INDEX["eyeBlinkRight"]])
    # a full ARKit head that also has visemes stays on ARKit (richer)
    from backend.vocabulary.face import ARKIT_NAMES
    assert face_source(["Basis", *ARKIT_NAMES, *OCULUS])[0] == "arkit"
    assert face_source(["Basis", "aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "happy"])[0] == "vrm"
    vrm0 = match_vrm_keys(["A", "I", "U", "E", "O", "Blink", "Blink_L", "Blink_R", "Joy", "Sorrow"])
    assert len(vrm0) == 10 and vrm0[8] == "Joy" and vrm0[10] == "Sorrow"
    assert len(match_vrm_keys(["Fcl_MTH_A", "Fcl_MTH_I", "Fcl_MTH_U", "Fcl_MTH_E", "Fcl_MTH_O", "Fcl_EYE_Close"])) == 6
    assert match_vrm_keys(["A", "O", "Key 1"]) == {}  # two letters are not a VRM head
    assert face_source(["Basis", "Exp000", "Exp001"])[0] == "expressions"


def test_mixamo_skeleton_still_found():
    rig = mixamo_like_rig(np.random.default_rng(2))
    assert detect_skeleton(rig.bone_names, rig.parents).family == "mixamo"
