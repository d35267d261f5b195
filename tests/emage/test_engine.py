"""What Orator adds around EMAGE: full coverage of the clip, take 1 = the official argmax, sampled takes,
prompts as masks (then exact), planted feet with capped drift, the FLAME face in motion.npz and ARKit."""
from __future__ import annotations

import numpy as np
import pytest

from backend.engines.emage.engine import (CONTACT_JOINTS, DRIFT_RADIUS_M, EmageGenerator, face_from_flame,
                                          load_flame_to_arkit, padded_frames, plant_feet, prompt_masks,
                                          samples_for_frames)
from backend.engines.emage.inference import plan_windows
from backend.errors import UserError
from backend.motion.kinematics import forward_kinematics
from backend.prompts import Prompts, write_prompts

from .conftest import ATOL_FACE_TRANS, ATOL_ROTATION, GOLDEN


@pytest.fixture(scope="module")
def generator():
    return EmageGenerator(GOLDEN / "weights", "cpu")


def test_every_frame_is_covered():
    for n in range(1, 260):
        t = padded_frames(n)
        plan = plan_windows(samples_for_frames(t), 64, 4)
        assert plan.n_frames == t and plan.n_out == t >= n and t - max(n, 9) <= 5


def test_take_1_is_the_official_argmax_and_other_takes_sample(generator):
    audio = np.load(GOLDEN / "input_synth4s.npy")       # T = 120: no padding needed
    with np.load(GOLDEN / "expected_synth4s_output.npz") as want:
        one = generator.run(audio, 120, np.random.default_rng(5), take=1)
        np.testing.assert_allclose(one.poses.reshape(120, 165), want["poses"], rtol=0, atol=ATOL_ROTATION)
        np.testing.assert_allclose(one.expressions, want["expressions"], rtol=0, atol=ATOL_FACE_TRANS)
    again = generator.run(audio, 120, np.random.default_rng(6), take=1)
    np.testing.assert_array_equal(again.poses, one.poses)              # argmax: the seed does not matter
    two = generator.run(audio, 120, np.random.default_rng(5), take=2)
    two_again = generator.run(audio, 120, np.random.default_rng(5), take=2)
    np.testing.assert_array_equal(two.poses, two_again.poses)          # a sampled take is reproducible
    assert np.abs(two.poses[:, 16:22] - one.poses[:, 16:22]).max() > 1e-2  # and differs from take 1
    np.testing.assert_allclose(two.expressions, one.expressions, atol=0.5)  # the face keeps its latent path


def test_prompts_enter_as_masks():
    frames = np.array([3, 10])
    pose_mask = np.zeros((2, 55), bool)
    pose_mask[0, 18] = True
    poses = np.zeros((2, 55, 3), np.float32)
    poses[0, 18] = (0.0, 0.0, np.pi / 2)
    trans_mask = np.array([False, True])
    trans = np.array([[0, 0, 0], [0.1, 0.9, -0.2]], np.float32)
    p = Prompts(frames, pose_mask, poses, trans_mask, trans, np.zeros((2, 52), bool), np.zeros((2, 52), np.float32))
    motion, mask, first = prompt_masks(p, 20)
    assert mask.shape == (20, 337) and mask.sum() == 20 * 337 - 6 - 3
    np.testing.assert_allclose(motion[3, 108:114], [0, -1, 0, 1, 0, 0], atol=1e-6)   # 6D rows of Rz(90°)
    assert (mask[3, 108:114] == 0).all() and (mask[10, 330:333] == 0).all()
    np.testing.assert_allclose(motion[10, 330:333], trans[1])
    np.testing.assert_allclose(first, trans[1])


def test_generate_with_prompts_and_flame_face(tmp_path, lj_clip):
    """The pipeline: prompts reach the network as masks and are exact in the output; motion.npz carries
    EMAGE's FLAME expressions; --flame-to-arkit drives the curves it maps."""
    from backend.vocabulary.face import ARKIT_INDEX
    from backend.formats.motion_npz import read_motion_npz
    from backend.options import GenerateOptions
    from backend.generation.pipeline import run_generate

    pose = np.zeros((1, 55, 3), np.float32)
    pose[0, 19] = (0.0, 0.4, 0.3)
    mask = np.zeros((1, 55), bool)
    mask[0, 19] = True
    prompts = write_prompts(tmp_path / "p.npz", Prompts(np.array([40]), mask, pose, np.zeros(1, bool),
                                                        np.zeros((1, 3), np.float32), np.zeros((1, 52), bool),
                                                        np.zeros((1, 52), np.float32)))
    matrix = np.zeros((100, 52), np.float32)
    matrix[0, ARKIT_INDEX["mouthSmileLeft"]] = 1.0
    np.save(tmp_path / "m.npy", matrix)
    opts = GenerateOptions(engine="emage", checkpoint=str(GOLDEN / "weights"), recognizer="phones",
                           prompts=str(prompts), flame_to_arkit=str(tmp_path / "m.npy"))
    summary = run_generate(lj_clip, tmp_path / "out", opts)
    m = read_motion_npz(summary.takes[0].motion)
    assert m.n_frames == summary.frames
    np.testing.assert_allclose(m.poses[40, 19], pose[0, 19], atol=1e-5)
    assert m.expressions.std() > 1e-3
    np.testing.assert_allclose(m.arkit[:, ARKIT_INDEX["mouthSmileLeft"]], np.clip(m.expressions[:, 0], 0, 1),
                               atol=1e-6)


def test_feet_stay_planted_and_drift_is_capped():
    t = 120
    poses = np.zeros((t, 55, 3), np.float32)
    phase = np.linspace(0, 4 * np.pi, t)
    poses[:, 1, 0] = 0.4 * np.sin(phase)                  # left hip swings
    poses[:, 2, 0] = -0.4 * np.sin(phase)
    contacts = np.zeros((t, 4), np.float32)
    contacts[:, [1, 3]] = 1.0                             # the right foot is planted throughout
    drifting = np.stack([np.linspace(0, 3, t), np.full(t, 0.93), np.linspace(0, -2, t)], axis=1)
    out = plant_feet(poses, drifting.astype(np.float32), contacts)
    _, pos = forward_kinematics(poses, out)
    right = pos[:, [CONTACT_JOINTS[1], CONTACT_JOINTS[3]]][..., [0, 2]].mean(axis=1)   # ankle + foot
    step = np.linalg.norm(np.diff(right, axis=0), axis=1)
    assert step.max() < 1e-4                              # the planted foot does not slide (< 0.1 mm a frame)
    no_contact = plant_feet(poses, drifting.astype(np.float32), np.zeros((t, 4), np.float32))
    assert np.linalg.norm(no_contact[:, [0, 2]] - no_contact[:1, [0, 2]], axis=1).max() <= DRIFT_RADIUS_M + 1e-5
    sole = forward_kinematics(poses, out)[1][:, list(CONTACT_JOINTS), 1].min(axis=1)
    assert abs(np.median(sole)) < 1e-6                    # feet meet the floor


def test_flame_to_arkit_matrix_is_checked(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((52, 100), np.float32))
    with pytest.raises(UserError, match=r"must be \(100, 52\)"):
        load_flame_to_arkit(str(tmp_path / "bad.npy"))
    m = np.zeros((100, 52), np.float32)
    m[1, 5] = 2.0
    arkit = np.full((3, 52), 0.25, np.float32)
    expr = np.zeros((3, 100), np.float32)
    expr[:, 1] = (0.1, 0.3, 0.9)
    out = face_from_flame(arkit, expr, np.zeros((3, 3), np.float32), m)
    np.testing.assert_allclose(out[:, 5], (0.2, 0.6, 1.0))
    assert (out[:, 6] == 0.25).all()
