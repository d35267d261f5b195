"""One mouth per rig, and the lip-gap geometry, without Blender."""
from __future__ import annotations

import numpy as np
import pytest

from rigs._backend import face_vocabulary
from rigs.character_asset import load_default_character
from rigs.mouth import (JAW_BONE, SHAPE_KEYS, keyed_bone_mask, lip_gap, lip_midline_ids,
                        mouth_mechanism_for_keys)


@pytest.mark.parametrize("names, mechanism", [
    (face_vocabulary.ARKIT_NAMES, SHAPE_KEYS),                         # Ready Player Me / default character
    ([f"blendShape1.{n}" for n in face_vocabulary.ARKIT_NAMES], SHAPE_KEYS),  # namespaced aliases
    (["jaw_open", "eye_blink_L"], SHAPE_KEYS),                         # snake_case aliases
    ([n for n in face_vocabulary.ARKIT_NAMES if n != "jawOpen"], JAW_BONE),  # ARKit keys without a jaw key
    ([f"Exp{i:03d}" for i in range(10)], JAW_BONE),                    # FLAME/SMPL-X expressions
    ([], JAW_BONE),
])
def test_mechanism_follows_the_jaw_open_key(names, mechanism):
    assert mouth_mechanism_for_keys(names) == mechanism


def test_only_the_jaw_bone_is_left_unkeyed():
    bones = ("pelvis", "head", "jaw", "eye_l")
    assert keyed_bone_mask(bones, "jaw", SHAPE_KEYS).tolist() == [True, True, False, True]
    assert keyed_bone_mask(bones, "jaw", JAW_BONE).all()
    assert keyed_bone_mask(bones, None, SHAPE_KEYS).all()


def _lips(gap):
    """Two 3-vertex lip polylines in the sagittal plane, `gap` apart at their closest points."""
    upper = np.array([[0, -0.01, gap + 0.004], [0, -0.008, gap], [0, -0.006, gap + 0.004]])
    lower = np.array([[0, -0.01, -0.004], [0, -0.008, 0.0], [0, -0.006, -0.004]])
    return np.concatenate([upper, lower]), np.arange(3), np.arange(3, 6)


def test_lip_gap_is_the_distance_between_the_lip_curves_and_zero_when_they_cross():
    co, up, lo = _lips(0.003)
    assert lip_gap(co, up, lo) == pytest.approx(0.003)
    co, up, lo = _lips(-0.002)  # the upper lip passes through the lower one
    assert lip_gap(co, up, lo) == 0.0
    frames = np.stack([_lips(g)[0] for g in (0.001, 0.01)])
    np.testing.assert_allclose(lip_gap(frames, up, lo), [0.001, 0.01])


def test_default_character_lips_touch_at_rest_and_open_with_jaw_open():
    char = load_default_character()
    upper, lower = lip_midline_ids(char.source_vertex_ids)
    assert lip_gap(char.vertices, upper, lower) < 1e-4
    opened = char.vertices + 0.3 * char.shape_offsets("jawOpen")
    assert 0.010 < lip_gap(opened, upper, lower) < 0.014
    # mouthClose = jawOpen seals the lips at any opening (the ARKit convention)
    for w in (0.2, 0.6, 1.0):
        sealed = opened + (w - 0.3) * char.shape_offsets("jawOpen") + w * char.shape_offsets("mouthClose")
        assert lip_gap(sealed, upper, lower) < 2e-4
    with pytest.raises(ValueError, match="hm08"):
        lip_midline_ids(np.arange(100))
