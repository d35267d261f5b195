"""The vocabulary layer: the one place of each shared fact, at the bottom of the package graph."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from backend.engines.builtin import body, face, gestures
from backend.formats import face_formats
from backend.formats.hand_pose import MEAN_RELAXED_HAND, add_hand_mean, rebase_fingers
from backend.vocabulary import choices, skeleton
from backend.vocabulary.face import VRM_EXPRESSIONS

BACKEND = Path(__file__).resolve().parents[1] / "backend"


def test_every_emotion_table_has_exactly_the_emotions():
    """A new emotion in choices.EMOTIONS must be authored in every per-emotion table, and none may keep one
    that was removed: the engines look emotions up by name, so a missing key would fail only at run time."""
    tables = {"builtin face EMOTION_STYLES": face.EMOTION_STYLES, "builtin body EMOTION_STYLES": body.EMOTION_STYLES}
    tables.update({f"gesture {g.name!r} weights": g.weights for g in gestures.GESTURES})
    tables.update({f"rest {name!r} REST_WEIGHTS": w for name, w in gestures.REST_WEIGHTS.items()})
    wrong = {name: sorted(set(t) ^ set(choices.EMOTIONS)) for name, t in tables.items()
             if set(t) != set(choices.EMOTIONS)}
    assert not wrong, f"tables whose keys differ from EMOTIONS (symmetric difference): {wrong}"
    # VRM has an expression for every emotion but neutral (its rest face); each is a VRM expression name.
    assert set(face_formats.VRM_EMOTION_SOURCES) == set(choices.EMOTIONS) - {"neutral"}
    assert set(face_formats.VRM_EMOTION_SOURCES) <= set(VRM_EXPRESSIONS)


def test_skeleton_names_and_slices_agree():
    names = skeleton.JOINT_NAMES
    assert skeleton.NUM_JOINTS == 55 and len(skeleton.PARENTS) == 55
    assert (names[skeleton.NECK], names[skeleton.HEAD], names[skeleton.JAW_JOINT]) == ("neck", "head", "jaw")
    assert [names[j] for j in skeleton.EYE_JOINTS] == ["left_eye_smplhf", "right_eye_smplhf"]
    assert list(range(55))[skeleton.FACE_JOINTS] == [skeleton.JAW_JOINT, *skeleton.EYE_JOINTS]
    left, right = names[skeleton.LEFT_HAND], names[skeleton.RIGHT_HAND]
    assert all(n.startswith("left_") for n in left) and [n.replace("left_", "right_") for n in left] == list(right)
    assert names[skeleton.HANDS] == left + right and skeleton.HAND_JOINTS == tuple(range(55))[skeleton.HANDS]
    for finger, block in zip(skeleton.FINGERS, range(0, 15, 3)):
        assert left[block:block + 3] == tuple(f"left_{finger}{k}" for k in (1, 2, 3))
    parts = set(skeleton.UPPER_JOINTS) | set(skeleton.LOWER_JOINTS) | set(skeleton.HAND_JOINTS)
    assert parts | {skeleton.JAW_JOINT, *skeleton.EYE_JOINTS} == set(range(55))
    assert MEAN_RELAXED_HAND.shape == (skeleton.NUM_HAND_JOINTS, 3)


def test_add_hand_mean_touches_only_the_fingers_and_undoes():
    rng = np.random.default_rng(3)
    poses = rng.normal(size=(7, 55, 3)).astype(np.float32)
    mean = rng.normal(size=90)
    flat = add_hand_mean(poses, mean)
    assert flat.dtype == np.float32 and not np.shares_memory(flat, poses)
    np.testing.assert_array_equal(np.delete(flat, np.r_[skeleton.HANDS], axis=1),
                                  np.delete(poses, np.r_[skeleton.HANDS], axis=1))
    np.testing.assert_allclose(flat[:, skeleton.HANDS], poses[:, skeleton.HANDS] + mean.reshape(30, 3), atol=1e-6)
    np.testing.assert_allclose(add_hand_mean(flat, -mean), poses, atol=1e-6)
    np.testing.assert_allclose(rebase_fingers(poses, mean, np.zeros(90)), flat, atol=0)
