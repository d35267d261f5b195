"""Body dynamics against real mocap: joint speeds within the real envelope on a minute of speech for
every emotion and many seeds (with and without prompts), no twist flips, the post-process math, and
the prompt blend's hemisphere continuity. Real percentiles: shared docs/metrics.md (BEAT2 speaker 2)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from backend.audio import analyze_speech, load_audio
from backend.engines.builtin.body import generate_body
from backend.motion.dynamics import (default_limits, default_speed_limits, enforce_dynamics, swing_twist,
                                     twist_angle, twist_jumps)
from backend.motion.kinematics import forward_kinematics, local_angular_speed
from backend.motion.rotations import axis_angle_to_quat, quat_multiply
from backend.prompts import Prompts, apply_prompts
from backend.vocabulary.choices import EMOTIONS
from backend.vocabulary.rates import MOTION_FPS as FPS
from backend.vocabulary.skeleton import JOINT_INDEX as J, UPPER_JOINTS

SEEDS = range(8)
# joint → (median, p99, max) rad/s, docs/metrics.md
REAL = {3: (0.17, 0.85, 1.8), 6: (0.16, 0.57, 1.0), 9: (0.09, 0.40, 1.5), 12: (0.27, 0.95, 1.8),
        13: (0.31, 1.81, 3.1), 14: (0.31, 1.75, 2.6), 15: (0.26, 0.97, 1.7), 16: (0.61, 2.44, 3.7),
        17: (0.51, 1.87, 2.4), 18: (1.05, 5.83, 7.6), 19: (1.07, 6.21, 9.4), 20: (0.76, 6.46, 10.4),
        21: (0.85, 5.45, 10.2)}


@pytest.fixture(scope="module")
def minute(shared_dir, tmp_path_factory):
    """≥ 60 s of real speech with 1–2 s pauses (LJSpeech clips), analysed once without a transcript."""
    rng = np.random.default_rng(0)
    parts, total, rate = [], 0.0, 22050
    for path in sorted((shared_dir / "data" / "speech" / "ljspeech").glob("*.wav")):
        x, rate = sf.read(path, dtype="float32")
        pause = np.zeros(int(rate * rng.uniform(1.0, 2.0)), np.float32)
        parts += [x, pause]
        total += (len(x) + len(pause)) / rate
        if total >= 61.0:
            break
    wav = tmp_path_factory.mktemp("dynamics") / "minute.wav"
    sf.write(wav, np.concatenate(parts), rate)
    analysis = analyze_speech(load_audio(wav), recognizer="phones")
    assert analysis.duration >= 60.0
    return analysis


def upper_body_prompt(poses: np.ndarray, start: int, length: int = 12) -> Prompts:
    """The whole upper body fixed for `length` frames: the generated pose at `start` with the right arm
    raised to the horizontal and the elbow a little bent (the take that popped in the issue)."""
    frames = np.arange(start, start + length)
    mask = np.zeros((length, 55), bool)
    mask[:, list(UPPER_JOINTS)] = True
    target = np.repeat(poses[start:start + 1], length, axis=0).astype(np.float32)
    target[:, J["right_shoulder"]] = [0.0, 0.0, 0.1]
    target[:, J["right_elbow"]] = [0.0, 0.3, 0.0]
    return Prompts(frames.astype(np.int64), mask, target, np.zeros(length, bool), np.zeros((length, 3), np.float32),
                   np.zeros((length, 52), bool), np.zeros((length, 52), np.float32))


def speed_ratios(poses: np.ndarray) -> dict[int, tuple[float, float, float]]:
    s = local_angular_speed(np.asarray(poses, np.float64)[:, list(REAL)], FPS)
    out = {}
    for i, (j, (med, p99, mx)) in enumerate(REAL.items()):
        out[j] = (np.median(s[:, i]) / med, np.percentile(s[:, i], 99) / p99, s[:, i].max() / mx)
    return out


@pytest.mark.parametrize("with_prompts", [False, True], ids=["plain", "upper_body_prompt"])
def test_joint_speeds_match_real_mocap_for_every_emotion_and_seed(minute, with_prompts):
    """8 seeds × 5 emotions × 60 s: every upper-body joint's p99 and max within 1.5 × real, median
    ≥ 0.5 × real (not stiff); no twist jumps over 30° in a frame; with a prompt, no hand pop."""
    failures = []
    for emotion in EMOTIONS:
        for seed in SEEDS:
            intensity = 0.5 if seed % 2 else 1.0
            poses, trans = generate_body(minute, emotion, intensity, np.random.default_rng(seed))
            if with_prompts:
                start = 150 + (seed * 211 + EMOTIONS.index(emotion) * 97) % (len(poses) - 300)
                poses, trans, _ = apply_prompts(poses, trans, np.zeros((len(poses), 52), np.float32),
                                                upper_body_prompt(poses, start))
                _, pos = forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
                hand_step = np.linalg.norm(np.diff(pos[:, [J["left_wrist"], J["right_wrist"]]], axis=0), axis=-1)
                if hand_step.max() > 0.1:  # 3 m/s; the pop was 0.35 m in a frame
                    failures.append(f"{emotion}/{seed}: hand jumps {hand_step.max():.2f} m in a frame")
            for j, (med, p99, mx) in speed_ratios(poses).items():
                if med < 0.5 or p99 > 1.5 or mx > 1.5:
                    failures.append(f"{emotion}/{seed} joint {j}: median {med:.2f}, p99 {p99:.2f}, max {mx:.2f} × real")
            jump = np.degrees(twist_jumps(poses).max())
            if jump > 30.0:
                failures.append(f"{emotion}/{seed}: twist jumps {jump:.0f}° in one frame")
    assert not failures, "\n".join(failures[:20])


def test_swing_twist_splits_and_recomposes():
    rng = np.random.default_rng(0)
    q = axis_angle_to_quat(rng.normal(size=(200, 3)))
    axis = np.array([1.0, 0.0, 0.0])
    swing, twist = swing_twist(q, axis)
    again = quat_multiply(swing, twist)
    assert np.allclose(np.abs(np.sum(again * q, axis=-1)), 1.0, atol=1e-12)
    assert np.abs(swing[:, 1]).max() < 1e-12                 # swing has no component about the axis
    assert np.abs(twist[:, 2:]).max() < 1e-12                # twist is purely about it
    pure = axis_angle_to_quat(np.array([[0.7, 0.0, 0.0], [-2.0, 0.0, 0.0]]))
    assert np.allclose(twist_angle(pure, axis), [0.7, -2.0])


def forearm_flip(n: int = 90) -> np.ndarray:
    """A bent left elbow whose forearm roll swings −80° → +80° within 3 frames (the issue's snap)."""
    poses = np.zeros((n, 55, 3))
    roll = np.radians(np.where(np.arange(n) < 45, -80.0, 80.0))
    roll[44:47] = np.radians([-80.0, 0.0, 80.0])
    flex = axis_angle_to_quat(np.tile([0.0, 1.2, 0.0], (n, 1)))
    twist = axis_angle_to_quat(np.stack([roll, np.zeros(n), np.zeros(n)], 1))
    from backend.motion.rotations import quat_to_axis_angle
    poses[:, J["left_elbow"]] = quat_to_axis_angle(quat_multiply(flex, twist))
    poses[:, J["right_shoulder"]] = [0.0, 0.0, 1.2]  # static: must come back untouched
    return poses.astype(np.float32)


def test_enforce_dynamics_repairs_a_forearm_flip_and_leaves_the_rest():
    poses = forearm_flip()
    fixed = enforce_dynamics(poses, FPS)
    assert fixed.shape == poses.shape and fixed.dtype == poses.dtype
    cap = default_speed_limits()[J["left_elbow"]]
    assert local_angular_speed(poses.astype(np.float64), FPS)[:, J["left_elbow"]].max() > 2 * cap
    assert local_angular_speed(fixed.astype(np.float64), FPS)[:, J["left_elbow"]].max() <= cap * 1.0001
    assert np.degrees(twist_jumps(fixed).max()) < 30.0
    assert np.array_equal(fixed[:, J["right_shoulder"]], poses[:, J["right_shoulder"]])
    assert np.array_equal(fixed[:20], poses[:20])  # before the flip nothing changes
    # it catches up with the input once the input holds still
    assert np.allclose(fixed[-10:, J["left_elbow"]], poses[-10:, J["left_elbow"]], atol=1e-5)
    assert np.array_equal(enforce_dynamics(poses, FPS), fixed)  # deterministic, pure


def test_enforce_dynamics_clamps_twist_into_the_human_range():
    n = 30
    poses = np.zeros((n, 55, 3))
    poses[:, J["left_elbow"], 0] = np.radians(np.linspace(100.0, 170.0, n))  # slowly past pronation limit
    fixed = enforce_dynamics(poses, FPS)
    lo, hi = default_limits()[J["left_elbow"]].twist_deg
    twist = np.degrees(twist_angle(axis_angle_to_quat(fixed[:, J["left_elbow"]]), np.array([1.0, 0.0, 0.0])))
    assert twist.max() <= hi + 1e-6 and twist.min() >= lo - 1e-6
    assert np.allclose(fixed[:5], poses[:5])  # inside the range it is left alone


def test_prompt_blend_keeps_one_way_round_when_the_take_passes_opposite_the_target():
    """The generated elbow turns from 150° to 210° away from the prompt's target while it eases out of
    the span: the blend must not swap sides when the short way round changes (the prompt pop)."""
    n = 80
    poses = np.zeros((n, 55, 3), np.float32)
    angle = np.radians(np.linspace(150.0, 210.0, n))
    rel = np.stack([np.zeros(n), np.zeros(n), angle], 1)
    from backend.motion.rotations import quat_to_axis_angle
    poses[:, J["left_shoulder"]] = quat_to_axis_angle(axis_angle_to_quat(rel))
    prompts = Prompts(np.arange(0, 10, dtype=np.int64), np.eye(55, dtype=bool)[[J["left_shoulder"]] * 10],
                      np.zeros((10, 55, 3), np.float32), np.zeros(10, bool), np.zeros((10, 3), np.float32),
                      np.zeros((10, 52), bool), np.zeros((10, 52), np.float32))
    out, _, _ = apply_prompts(poses, np.zeros((n, 3), np.float32), np.zeros((n, 52), np.float32), prompts)
    speed = local_angular_speed(out.astype(np.float64), FPS)[:, J["left_shoulder"]]
    generated = local_angular_speed(poses.astype(np.float64), FPS)[:, J["left_shoulder"]]
    assert speed.max() < 3.0 * max(generated.max(), 1.0), (speed.max(), generated.max())


REST_CLUSTERS = ("front", "clasped", "side", "behind")


def rest_clusters(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(T, 2) index into REST_CLUSTERS of each wrist (left, right) in the chest frame: behind the back,
    hanging at the side (or low at the hip), together at the midline, else in front (ready / gesturing)."""
    rot, pos = forward_kinematics(np.asarray(poses, np.float64), np.asarray(trans, np.float64))
    rel = np.einsum("tji,tpj->tpi", rot[:, J["spine3"]],
                    pos[:, [J["left_wrist"], J["right_wrist"]]] - pos[:, [J["spine3"]]])
    x, y, z = np.abs(rel[..., 0]), rel[..., 1], rel[..., 2]
    out = np.zeros(x.shape, int)
    out[(x < 0.11) & (z > 0.1)] = 1
    out[(x > 0.2) & (y < -0.25) & (z > -0.08)] = 2
    out[z < -0.1] = 3
    return out


def test_a_minute_varies_its_rests_and_moves_trunk_and_collars_like_real_mocap(minute):
    """20 takes of a minute (4 seeds × 5 emotions): the hands change how they are held (in front,
    clasped, at the sides, behind), a 16-frame contact sheet shows several of those combinations, and
    spine1–3 and the collars spread over real mocap's 4–7° (mean std of the axis-angle components)."""
    joints = ("spine1", "spine2", "spine3", "left_collar", "right_collar")
    spreads, both_front, distinct, seen = [], [], [], np.zeros(len(REST_CLUSTERS))
    for emotion in EMOTIONS:
        for seed in range(4):
            poses, trans = generate_body(minute, emotion, 0.5 if seed % 2 else 1.0, np.random.default_rng(seed))
            spreads.append(np.degrees(poses[:, [J[j] for j in joints]].std(axis=0)).mean(axis=1))
            c = rest_clusters(poses, trans)
            both_front.append(np.mean((c == 0).all(axis=1)))
            sheet = c[np.linspace(0, len(c) - 1, 16).astype(int)]
            distinct.append(len({tuple(row) for row in sheet}))
            seen += np.bincount(c.ravel(), minlength=len(REST_CLUSTERS)) / c.size
            assert np.bincount(c.ravel(), minlength=4).max() / c.size < 0.97, (emotion, seed)
    spreads = np.array(spreads)
    # measured: spreads 4.0–4.5° (before issue 12's variety work 0.8–2.5°), both hands in front 52 % of
    # the time (before 64 %), 5.7 combinations on a sheet (4.8), shares front/clasped/side/behind
    # 73/14/9/5 % (before 78/12/10/0.1 %: behind the back only in pauses ≥ 2.2 s)
    assert (spreads.mean(axis=0) > 3.5).all() and (spreads.mean(axis=0) < 8.0).all(), spreads.mean(axis=0)
    assert spreads.min() > 2.5, spreads.min(axis=0)
    assert np.mean(both_front) < 0.58, both_front
    assert np.mean(distinct) >= 5.2, distinct
    assert (seen / 20 > 0.03).all(), dict(zip(REST_CLUSTERS, np.round(seen / 20, 3)))


def within_envelope(poses: np.ndarray) -> tuple[float, float]:
    """(largest speed / the joint's envelope, largest twist jump in degrees) of a take."""
    speed = local_angular_speed(np.asarray(poses, np.float64), FPS)
    limits = default_speed_limits()
    finite = np.isfinite(limits)
    return float((speed[:, finite] / limits[finite]).max()), float(np.degrees(twist_jumps(poses).max()))


@pytest.fixture(scope="module")
def clip_analysis(lj_clip):
    return analyze_speech(load_audio(lj_clip), recognizer="phones")


def test_the_neural_body_engine_keeps_to_the_envelope(clip_analysis):
    """The shipped neural body model's take goes through the same post-process (issue 12)."""
    from backend.engines.interface import EngineRequest
    from backend.engines.neural_body.engine import NeuralBodyEngine

    request = EngineRequest(clip_analysis, rng=np.random.default_rng(0))
    motion = NeuralBodyEngine.load(None, "cpu").generate_body(request)
    ratio, jump = within_envelope(motion.poses)
    assert ratio <= 1.0 + 1e-3 and jump <= 30.0, (ratio, jump)


def test_emage_keyed_output_keeps_to_the_envelope_and_run_stays_the_networks(shared_dir, clip_analysis):
    """EMAGE's keyed take is post-processed; EmageGenerator.run (and so --raw) is the network's own."""
    from backend.engines.emage.engine import EmageBodyEngine
    from backend.engines.interface import EngineRequest

    engine = EmageBodyEngine(shared_dir / "emage" / "golden" / "weights", "cpu")
    poses = engine.generate_body(EngineRequest(clip_analysis, rng=np.random.default_rng(0), take=1)).poses
    # speeds only: the golden fixture's random weights swing joints to the edge of their cones (150–160°),
    # where the twist about the bone is so sensitive that a step inside the envelope reads as a 100° twist
    raw = engine.generator.run(clip_analysis.samples, clip_analysis.n_frames, np.random.default_rng(0), 1)
    raw_ratio, _ = within_envelope(raw.poses)
    ratio, _ = within_envelope(poses)
    assert raw_ratio > 1.5 and ratio <= 1.0 + 1e-3, (raw_ratio, ratio)
    assert np.array_equal(enforce_dynamics(raw.poses, FPS), poses)  # the same take, only post-processed
