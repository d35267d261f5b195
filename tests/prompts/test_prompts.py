"""Masked keyframe prompts on real speech: exact at prompted frames, smooth around them, the rest untouched,
malformed files and prompts past the audio rejected with one line, CLI and worker end to end."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from backend.audio.analyze import analyze_speech
from backend.audio.io import load_audio
from backend.ipc.client import WorkerClient
from backend.ipc.protocol import DoneEvent, ErrorEvent
from backend.engines.builtin.body import generate_body
from backend.engines.builtin.face import generate_face
from backend.errors import UserError
from backend.formats.motion_npz import read_motion_npz
from backend.metrics.body import beat_consistency
from backend.motion.kinematics import forward_kinematics, local_angular_speed
from backend.motion.rotations import axis_angle_to_quat, quat_conjugate, quat_multiply
from backend.prompts import (PROMPT_KEYS, Prompts, SpeedPolicy, apply_prompts, read_prompts, spans,
                             write_prompts)
from backend.vocabulary.face import ARKIT_INDEX
from backend.vocabulary.rates import MOTION_FPS as FPS
from backend.vocabulary.skeleton import JOINT_INDEX as J
from backend.vocabulary.skeleton import REST_OFFSETS

ARMS = [J[n] for n in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow")]
LEGS = [J[n] for n in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")]
HEAD = J["head"]


def geodesic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    rel = quat_multiply(quat_conjugate(axis_angle_to_quat(a)), axis_angle_to_quat(b))
    return 2.0 * np.arctan2(np.linalg.norm(rel[..., 1:], axis=-1), np.abs(rel[..., 0]))


@pytest.fixture(scope="module")
def analysis(lj_clip):
    return analyze_speech(load_audio(lj_clip))


@pytest.fixture(scope="module")
def take(analysis):
    """The unprompted built-in take: poses (T, 55, 3), trans (T, 3), arkit (T, 52)."""
    face_rng, body_rng = np.random.default_rng([3, 1]).spawn(2)
    arkit = generate_face(analysis, "neutral", 0.5, face_rng)
    poses, trans = generate_body(analysis, "neutral", 0.5, body_rng)
    return poses, trans, arkit


@pytest.fixture(scope="module")
def mean_speed(shared_dir):
    return np.load(shared_dir / "data" / "beat2_mean_joint_speed.npy", allow_pickle=False)


def build_prompts(entries) -> Prompts:
    """entries: [(frames, kind, channel, value)] with kind 'pose' | 'trans' | 'arkit'."""
    frames = sorted({int(f) for fr, *_ in entries for f in fr})
    row = {f: i for i, f in enumerate(frames)}
    k = len(frames)
    p = dict(frames=np.array(frames, np.int64), pose_mask=np.zeros((k, 55), bool), poses=np.zeros((k, 55, 3), np.float32),
             trans_mask=np.zeros(k, bool), trans=np.zeros((k, 3), np.float32), arkit_mask=np.zeros((k, 52), bool),
             arkit=np.zeros((k, 52), np.float32))
    for fr, kind, channel, value in entries:
        for f in fr:
            i = row[int(f)]
            if kind == "pose":
                p["pose_mask"][i, channel], p["poses"][i, channel] = True, value
            elif kind == "trans":
                p["trans_mask"][i], p["trans"][i] = True, value
            else:
                p["arkit_mask"][i, channel], p["arkit"][i, channel] = True, value
    return Prompts(**p)


def scenario(take) -> Prompts:
    """Both hands up 120–150, look left at 60, legs still for the last 1.5 s, jaw open 200–210, root held 30–40."""
    poses, trans, _ = take
    n = len(poses)
    up = {J["left_shoulder"]: [0.0, 0.0, -1.25], J["right_shoulder"]: [0.0, 0.0, 1.25],
          J["left_elbow"]: [0.0, -1.1, 0.0], J["right_elbow"]: [0.0, 1.1, 0.0]}
    still = range(n - 45, n)
    entries = [(range(120, 151), "pose", j, v) for j, v in up.items()]
    entries.append(([60], "pose", HEAD, [0.05, 0.7, 0.0]))
    entries += [(still, "pose", j, poses[n - 45, j]) for j in LEGS]
    entries.append((range(200, 211), "arkit", ARKIT_INDEX["jawOpen"], 0.6))
    entries.append((range(30, 41), "trans", None, trans[30] + [0.05, 0.0, 0.02]))
    return build_prompts(entries)


def test_prompted_channels_equal_their_targets(take):
    prompts = scenario(take)
    poses, trans, arkit = apply_prompts(*take, prompts)
    d = prompts.dense(len(poses))
    err = geodesic(poses[d.pose_mask], d.poses[d.pose_mask])
    assert err.max() < 1e-3, err.max()
    assert np.abs(trans[d.trans_mask] - d.trans[d.trans_mask]).max() < 1e-6
    assert np.abs(arkit[d.arkit_mask] - d.arkit[d.arkit_mask]).max() < 1e-6
    # and the prompt really changed the take there (the test would see a no-op)
    assert geodesic(take[0][120:151, ARMS], poses[120:151, ARMS]).max() > 0.5


def test_unprompted_channels_and_far_frames_are_untouched(take):
    prompts = scenario(take)
    poses, trans, arkit = apply_prompts(*take, prompts)
    d = prompts.dense(len(poses))
    free_joints = ~d.pose_mask.any(axis=0)
    assert free_joints.sum() == 55 - 4 - 1 - len(LEGS)
    assert np.array_equal(poses[:, free_joints], take[0][:, free_joints])
    free_curves = ~d.arkit_mask.any(axis=0)
    assert np.array_equal(arkit[:, free_curves], take[2][:, free_curves])
    # the arms before the first possible transition into 120 (3 s max) are the generated ones
    assert np.array_equal(poses[:120 - 3 * FPS, ARMS], take[0][:120 - 3 * FPS, ARMS])
    # the legs until their transition begins
    assert np.array_equal(poses[:len(poses) - 45 - 3 * FPS, LEGS], take[0][:len(poses) - 45 - 3 * FPS, LEGS])


def boundary_excess(generated: np.ndarray, blended: np.ndarray, given: np.ndarray, policy=SpeedPolicy()):
    """Largest (blended − generated speed) / (ratio × max(local median generated speed, floor)) over the
    1.5 s outside each span edge of each prompted joint (1.0 = exactly at the allowed bound)."""
    v_gen = local_angular_speed(generated.astype(np.float64), FPS)
    v_out = local_angular_speed(blended.astype(np.float64), FPS)
    half, reach = policy.window_s * FPS, int(1.5 * FPS)
    worst = 0.0
    for j in np.flatnonzero(given.any(axis=0)):
        for a, b in spans(given[:, j]):
            for edge, lo, hi in ((a, a - reach, a), (b, b, b + reach)):
                lo, hi = max(lo, 0), min(hi, len(v_gen))
                if hi <= lo:
                    continue
                med = np.median(v_gen[max(edge - int(half), 0):edge + int(half) + 1, j])
                bound = policy.ratio * max(med, policy.rotation_floor)
                worst = max(worst, float(np.max(v_out[lo:hi, j] - v_gen[lo:hi, j]) / bound))
    return worst


def test_no_velocity_spike_around_prompt_boundaries(take):
    prompts = scenario(take)
    poses, _, _ = apply_prompts(*take, prompts)
    given = prompts.dense(len(poses)).pose_mask
    assert boundary_excess(take[0], poses, given) <= 1.1
    # a hard cut to the same targets is what the bound catches
    cut = take[0].copy()
    d = prompts.dense(len(poses))
    cut[d.pose_mask] = d.poses[d.pose_mask]
    assert boundary_excess(take[0], cut, given) > 3.0


def test_short_gaps_are_bridged_not_dropped(take):
    """Keys 10 frames apart on one joint: the joint never goes back to the generated pose between them."""
    a, b = [0.0, 0.0, -1.0], [0.0, 0.0, -1.3]
    prompts = build_prompts([([100], "pose", J["left_shoulder"], a), ([110], "pose", J["left_shoulder"], b)])
    poses, _, _ = apply_prompts(*take, prompts)
    between = poses[100:111, J["left_shoulder"]]
    # between the keys the arm stays between the two key poses (z angle monotone from −1.0 to −1.3)
    assert np.all(np.diff(between[:, 2]) <= 1e-6) and abs(between[0, 2] + 1.0) < 1e-6 and abs(between[-1, 2] + 1.3) < 1e-6


@pytest.fixture(scope="module")
def long_analysis(shared_dir, tmp_path_factory):
    """29 s of real speech (LJ001-0001..0004 with 0.6 s pauses): BC needs more than a few scored seconds."""
    parts = []
    for i in range(1, 5):
        x, rate = sf.read(shared_dir / "data" / "speech" / "ljspeech" / f"LJ001-000{i}.wav", dtype="float32")
        parts += [x, np.zeros(int(0.6 * rate), np.float32)]
    path = tmp_path_factory.mktemp("long") / "long.wav"
    sf.write(path, np.concatenate(parts), rate)
    return analyze_speech(load_audio(path))


def test_beat_consistency_within_ten_percent(long_analysis, mean_speed):
    """The prompted takes still hit the speech beats: mean BC over six takes within 10 % of the unprompted."""
    bc = []
    for seed in range(6):
        face_rng, body_rng = np.random.default_rng([seed, 1]).spawn(2)
        body_poses, body_trans = generate_body(long_analysis, "neutral", 0.5, body_rng)
        take = (body_poses, body_trans, generate_face(long_analysis, "neutral", 0.5, face_rng))
        poses, trans, _ = apply_prompts(*take, scenario(take))
        _, pos0 = forward_kinematics(take[0].astype(np.float64), take[1].astype(np.float64), REST_OFFSETS)
        _, pos1 = forward_kinematics(poses.astype(np.float64), trans.astype(np.float64), REST_OFFSETS)
        bc.append((beat_consistency(pos0, long_analysis.onsets, FPS, mean_speed),
                   beat_consistency(pos1, long_analysis.onsets, FPS, mean_speed)))
    bc0, bc1 = np.mean(bc, axis=0)
    assert np.all(np.isfinite(bc)) and abs(bc1 - bc0) <= 0.1 * bc0, bc


def test_write_read_round_trip(tmp_path, take):
    prompts = scenario(take)
    back = read_prompts(write_prompts(tmp_path / "p.npz", prompts), len(take[0]))
    for key in PROMPT_KEYS:
        assert np.array_equal(getattr(back, key), getattr(prompts, key)), key


def _valid_arrays(k=2):
    return dict(frames=np.array([5, 9]), pose_mask=np.zeros((k, 55), bool), poses=np.zeros((k, 55, 3), np.float32),
                trans_mask=np.zeros(k, bool), trans=np.zeros((k, 3), np.float32),
                arkit_mask=np.zeros((k, 52), bool), arkit=np.zeros((k, 52), np.float32))


def _with(**changes):
    arrays = _valid_arrays()
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return arrays


NAN_POSES = np.zeros((2, 55, 3), np.float32)
NAN_POSES[1, 3, 0] = np.nan
JAW_MASK = np.zeros((2, 55), bool)
JAW_MASK[0, J["jaw"]] = True


@pytest.mark.parametrize("arrays, message", [
    (_with(poses=None), "lacks poses"),
    (_with(pose_mask=np.zeros((2, 54), bool)), "'pose_mask' must have shape (2, 55)"),
    (_with(trans=np.zeros((3, 3), np.float32)), "'trans' must have shape (2, 3)"),
    (_with(poses=NAN_POSES), "'poses' contains NaN"),
    (_with(arkit_mask=np.zeros((2, 52), np.float32)), "'arkit_mask' must be a boolean array"),
    (_with(frames=np.array([1.5, 2.0])), "'frames' must be integers"),
    (_with(frames=np.array([4, 4])), "frame 4 appears more than once"),
    (_with(frames=np.array([-3, 4])), "prompt at frame -3 is before the start"),
    (_with(pose_mask=JAW_MASK), "joint 'jaw' follows the face curves"),
])
def test_malformed_prompt_files_give_one_line(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError) as err:
        read_prompts(path, 100)
    assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_unreadable_and_missing_prompt_files(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hands up at 120")
    with pytest.raises(UserError, match="not a readable prompts .npz"):
        read_prompts(text)
    with pytest.raises(UserError, match="prompts file not found"):
        read_prompts(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    arrays = _valid_arrays()
    arrays["frames"] = np.array([{"frame": 5}, {"frame": 9}], dtype=object)
    np.savez(pickled, **arrays)
    with pytest.raises(UserError):  # object arrays are never unpickled
        read_prompts(pickled)


def test_prompt_past_the_end_of_the_audio(tmp_path):
    arrays = _valid_arrays()
    arrays["frames"] = np.array([5, 900])
    arrays["arkit_mask"][1, 0] = True
    np.savez(tmp_path / "late.npz", **arrays)
    with pytest.raises(UserError) as err:
        read_prompts(tmp_path / "late.npz", 290)
    assert str(err.value).endswith("prompt at frame 900 is past the end of the audio (frame 289)")
    # a frame past the end with nothing fixed on it is harmless
    arrays["arkit_mask"][1, 0] = False
    np.savez(tmp_path / "late_empty.npz", **arrays)
    assert read_prompts(tmp_path / "late_empty.npz", 290).count == 2


def test_cli_generate_with_prompts(tmp_path, lj_clip, take):
    prompts = scenario(take)
    path = write_prompts(tmp_path / "prompts.npz", prompts)
    run = subprocess.run([sys.executable, "-m", "backend", "generate", str(lj_clip), "-o", str(tmp_path / "out"),
                          "--seed", "3", "--prompts", str(path), "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["options"]["prompts"] == str(path)
    motion = read_motion_npz(summary["takes"][0]["motion"])
    d = prompts.dense(motion.n_frames)
    assert geodesic(motion.poses.reshape(-1, 55, 3)[d.pose_mask], d.poses[d.pose_mask]).max() < 1e-3
    assert np.abs(motion.trans[d.trans_mask] - d.trans[d.trans_mask]).max() < 1e-6
    assert np.abs(motion.arkit[d.arkit_mask] - d.arkit[d.arkit_mask]).max() < 1e-6

    late = build_prompts([([900], "pose", HEAD, [0.0, 0.5, 0.0])])
    run = subprocess.run([sys.executable, "-m", "backend", "generate", str(lj_clip), "-o", str(tmp_path / "late"),
                          "--prompts", str(write_prompts(tmp_path / "late.npz", late))], capture_output=True, text=True)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "prompt at frame 900 is past the end of the audio (frame 289)" in lines[0], run.stderr
    assert not (tmp_path / "late" / "summary.json").exists()


def test_worker_job_with_prompts(tmp_path, lj_clip, take):
    prompts = scenario(take)
    path = write_prompts(tmp_path / "prompts.npz", prompts)
    client = WorkerClient()
    client.start(timeout=60)
    try:
        job = client.submit(str(lj_clip), str(tmp_path / "out"), {"seed": 3, "prompts": str(path)})
        done = client.wait_for(lambda e: e.id == job and isinstance(e, (DoneEvent, ErrorEvent)), 120)
        assert isinstance(done, DoneEvent), done
        motion = read_motion_npz(done.result.takes[0].motion)
        d = prompts.dense(motion.n_frames)
        assert geodesic(motion.poses.reshape(-1, 55, 3)[d.pose_mask], d.poses[d.pose_mask]).max() < 1e-3
        job = client.submit(str(lj_clip), str(tmp_path / "o2"), {"prompts": str(tmp_path / "missing.npz")})
        err = client.wait_for(lambda e: e.id == job and isinstance(e, (DoneEvent, ErrorEvent)), 60)
        assert isinstance(err, ErrorEvent) and err.kind == "user" and "prompts file not found" in err.message
    finally:
        client.stop()
