"""motion.npz fingers relative to the user's real SMPL-X mean hand (BEAT2 convention), end to end."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from backend.errors import UserError
from backend.formats.hand_pose import (HAND_MEAN_STAND_IN, MEAN_RELAXED_HAND, read_hand_mean, rebase_fingers)
from backend.formats.motion_npz import read_motion_npz, write_motion_npz


def fake_mean(seed: int = 0) -> np.ndarray:
    """A MANO-like mean hand (30, 3): curled fingers, differing from the stand-in by 10–40° per joint."""
    rng = np.random.default_rng(seed)
    return MEAN_RELAXED_HAND + rng.uniform(-0.6, 0.6, (30, 3))


def smplx_like(path, mean: np.ndarray):
    """Only what read_hand_mean needs of a user's SMPL-X npz (plus a distractor array)."""
    np.savez(path, hands_meanl=mean[:15].ravel(), hands_meanr=mean[15:].ravel(), f=np.zeros((3, 3), np.int32))
    return path


def test_fingers_are_stored_relative_to_the_users_mean_hand(tmp_path):
    mean = fake_mean()
    assert np.allclose(read_hand_mean(smplx_like(tmp_path / "SMPLX_NEUTRAL.npz", mean)), mean)
    rng = np.random.default_rng(1)
    poses = rng.normal(0.0, 0.3, (20, 55, 3)).astype(np.float32)   # Orator convention
    t = len(poses)
    path = write_motion_npz(tmp_path / "motion.npz", poses, np.zeros((t, 3)), np.zeros((t, 52)),
                            hand_mean=mean, hand_mean_source="smplx model SMPLX_NEUTRAL.npz")
    with np.load(path, allow_pickle=False) as z:
        stored = z["poses"].reshape(t, 55, 3)
        assert str(z["hand_mean_source"]) == "smplx model SMPLX_NEUTRAL.npz"
    # what smplx (flat_hand_mean=False) or a BEAT2 tool rebuilds: stored + the real mean = the same hand
    assert np.allclose(stored[:, 25:55] + mean, poses[:, 25:55] + MEAN_RELAXED_HAND, atol=1e-5)
    assert np.array_equal(stored[:, :25], poses[:, :25])
    back = read_motion_npz(path)  # read back into Orator's convention
    assert np.allclose(back.poses, poses, atol=1e-5) and back.hand_mean_source.startswith("smplx model")


def test_without_a_model_the_stand_in_is_recorded(tmp_path):
    poses = np.zeros((3, 55, 3), np.float32)
    path = write_motion_npz(tmp_path / "m.npz", poses, np.zeros((3, 3)), np.zeros((3, 52)))
    motion = read_motion_npz(path)
    assert motion.hand_mean_source == HAND_MEAN_STAND_IN and np.array_equal(motion.poses, poses)
    assert np.allclose(rebase_fingers(poses, MEAN_RELAXED_HAND, MEAN_RELAXED_HAND), poses)


def test_bad_model_files_are_one_line_errors(tmp_path):
    np.savez(tmp_path / "smpl.npz", hands_meanl=np.zeros(45))
    with pytest.raises(UserError, match="lacks hands_meanr"):
        read_hand_mean(tmp_path / "smpl.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="not a readable SMPL-X"):
        read_hand_mean(tmp_path / "junk.npz")
    with pytest.raises(UserError, match="not found"):
        read_hand_mean(tmp_path / "missing.npz")


def test_cli_generate_with_the_users_model(tmp_path, lj_clip):
    mean = fake_mean(2)
    model = smplx_like(tmp_path / "SMPLX_NEUTRAL.npz", mean)
    run = subprocess.run([sys.executable, "-m", "backend", "generate", str(lj_clip), "-o", str(tmp_path / "out"),
                          "--recognizer", "phones", "--smplx-model", str(model), "--json"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["hand_mean"] == "smplx model SMPLX_NEUTRAL.npz"
    with np.load(summary["takes"][0]["motion"], allow_pickle=False) as z:
        stored = z["poses"].reshape(-1, 55, 3)
    motion = read_motion_npz(summary["takes"][0]["motion"])
    assert np.allclose(stored[:, 25:55] + mean, motion.poses[:, 25:55] + MEAN_RELAXED_HAND, atol=1e-4)
    missing = subprocess.run([sys.executable, "-m", "backend", "generate", str(lj_clip), "-o", str(tmp_path / "x"),
                              "--smplx-model", str(tmp_path / "nope.npz")], capture_output=True, text=True)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
    assert "SMPL-X model file not found" in missing.stderr
