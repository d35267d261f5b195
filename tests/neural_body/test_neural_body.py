"""Neural body engine: training, masked inference, seams, checkpoints, takes, CLI."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from backend.audio.io import load_audio
from backend.engines.neural_body.features import PART_JOINTS
from backend.engines.neural_body.config import tiny
from backend.engines.neural_body.infer import JOIN_FRAMES, KnownMotion, continue_from_seeds, generate_motion
from backend.engines.neural_body.train import TrainSchedule, part_joint_positions, train_body
from backend.engines.neural_body.model import load_checkpoint, save_checkpoint
from backend.motion.kinematics import local_angular_speed
from backend.vocabulary.skeleton import UPPER_JOINTS


def _losses(lines: list[str], stage: str, term: str = "loss") -> list[float]:
    return [float(re.search(term + r" ([\d.]+)", ln).group(1)) for ln in lines if ln.startswith(stage + " ")]


@pytest.fixture(scope="module")
def model(trained):
    m, _ = load_checkpoint(trained[0])
    return m


@pytest.fixture(scope="module")
def speech(lj_clip):
    samples = load_audio(lj_clip).samples
    return samples, int(len(samples) * 30 // 16000)


def test_tiny_model_overfits(trained, model):
    _, lines, windows = trained
    vq = _losses(lines, "vq")
    seeded = _losses(lines, "transformer", "seed")  # pass 1: its mask does not change over training
    assert vq[-1] < 0.5 * vq[0]
    assert seeded[-1] < 0.8 * seeded[0]
    # VQ reconstruction of the training windows: joints of each part within a few cm (FK, others at rest)
    x = model.normalize(torch.from_numpy(windows.motion))
    for part in model.cfg.parts:
        target = model.part(x, part)
        with torch.no_grad():
            recon, _, _, _ = model.vq[part](target)
            err = (part_joint_positions(model, part, recon) - part_joint_positions(model, part, target)).norm(dim=-1)
        assert float(err[..., list(PART_JOINTS[part])].mean()) < 0.03, part


def test_default_speaker_is_one_the_model_was_trained_on(model, speech):
    samples, n = speech
    assert model.cfg.transformer.default_speaker == 1  # the test data are all speaker 1 ("1_<clip>_<take>")
    a = generate_motion(model, samples, n, seed=4)
    b = generate_motion(model, samples, n, seed=4, speaker=1)
    np.testing.assert_array_equal(a.poses, b.poses)


def test_given_channels_are_kept_exactly(model, speech):
    samples, n = speech
    rng = np.random.default_rng(3)
    poses = rng.normal(0, 0.3, (n, 55, 3)).astype(np.float32)
    trans = rng.normal(0, 0.1, (n, 3)).astype(np.float32)
    joint_mask = np.zeros((n, 55), bool)
    joint_mask[40:90, 18] = True          # left elbow over a span crossing a window join
    joint_mask[rng.random((n, 55)) < 0.05] = True
    trans_mask = np.zeros(n, bool)
    trans_mask[100:130] = True
    out = generate_motion(model, samples, n, seed=5, known=KnownMotion(poses, trans, joint_mask, trans_mask))
    np.testing.assert_array_equal(out.poses[joint_mask], poses[joint_mask])
    np.testing.assert_array_equal(out.trans[trans_mask], trans[trans_mask])
    free = ~joint_mask
    assert np.abs(out.poses[free] - poses[free]).mean() > 0.05  # the rest is generated, not copied


def test_windows_join_without_seams(model, speech):
    samples, _ = speech
    long = np.concatenate([samples, samples, samples])
    n = int(len(long) * 30 // 16000)
    out = generate_motion(model, long, n, seed=1)
    speed = local_angular_speed(out.poses.astype(np.float64), 30)[:, list(UPPER_JOINTS)].mean(1)  # (T-1,)
    joins = [a + 3 for a in range(60, n - 64, 60)]  # step from the last seed frame to the first new one
    assert len(joins) >= 10
    for j in joins:
        # no step at the join: the first new frame moves like the seed frames before it. (Against the median of
        # ±15 frames, the tiny test model's window tails read 2.1–2.9× for seeds 1, 3, 4, 6: a burst over the
        # last seed frames that the join carries on smoothly, speed[j] ≈ speed[j − 1], not a seam.)
        assert speed[j] <= 1.5 * speed[j - 1] + 0.05, (j, speed[j - 3:j + 4])


def test_join_continues_position_and_velocity():
    t = np.arange(64, dtype=np.float64)[:, None]
    seeds = 0.1 * t[:4] * np.array([[1.0, -2.0, 0.5]])               # moving steadily
    generated = np.sin(0.3 * t + np.array([[0.0, 1.0, 2.0]])) + 3.0  # elsewhere, moving differently
    out = continue_from_seeds(generated, seeds)
    np.testing.assert_array_equal(out[:4], seeds)
    vel = np.diff(out, axis=0)
    seed_vel = seeds[3] - seeds[2]
    np.testing.assert_allclose(vel[3], seed_vel, atol=1e-12)     # the first new frame continues the seeds' step
    accel = np.abs(np.diff(vel[2:4 + JOIN_FRAMES], axis=0)).max(0)
    assert np.all(accel <= 2 * np.abs(np.diff(generated, 2, axis=0)).max(0))  # a 3-unit jump, yet no kink
    np.testing.assert_array_equal(out[4 + JOIN_FRAMES:], generated[4 + JOIN_FRAMES:])  # then the window itself


def test_training_does_not_depend_on_global_rng(beat2_dir, tmp_path):
    from backend.engines.neural_body.beat2 import read_beat2_folder
    from backend.engines.neural_body.windows import build_windows
    windows = build_windows(read_beat2_folder(beat2_dir), tiny())
    short = TrainSchedule(vq_steps=2, transformer_steps=2, batch=2, warmup=1, log_every=1, save_every=10_000)
    weights = []
    for i, state in enumerate((123, 456)):
        torch.manual_seed(state)  # whatever ran before in the process
        m, _ = load_checkpoint(train_body(windows, tmp_path / f"{i}.pt", tiny(), short, log=lambda _: None))
        weights.append(m.state_dict())
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


def test_checkpoint_round_trip(model, speech, tmp_path):
    samples, n = speech
    path = save_checkpoint(tmp_path / "copy.pt", model, {"note": "round trip"})
    payload = torch.load(path, weights_only=True)
    assert payload["config"]["parts"] == list(model.cfg.parts)
    again, payload = load_checkpoint(path)
    a = generate_motion(model, samples, n, seed=11)
    b = generate_motion(again, samples, n, seed=11)
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.trans, b.trans)


def test_seeds_give_different_takes(model, speech):
    samples, n = speech
    a = generate_motion(model, samples, n, seed=1)
    b = generate_motion(model, samples, n, seed=2)
    assert np.abs(a.poses - b.poses).mean() > 1e-3
    assert np.all(np.isfinite(a.poses)) and np.all(np.isfinite(a.trans))
