"""Built-in body engine: geometry, gesture vocabulary, and statistics on real speech (LJSpeech)."""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from backend.analysis import SpeechAnalysis
from backend.audio import analyze_speech, load_audio
from backend.engines.builtin.body import (BodyParams, arm_ik, emotion_style, generate_body, leg_ik,
                                          plan_gestures, rest_ankle_position)
from backend.engines.builtin.gestures import GESTURES, READY_POSE, REST_POSES
from backend.errors import Cancelled
from backend.formats.hand_pose import HAND_SHAPES, MEAN_RELAXED_HAND, hand_shape, to_flat_hand
from backend.metrics.body import (beat_consistency, foot_sliding, jitter, root_drift_per_minute,
                                  upper_body_angular_speed)
from backend.motion.kinematics import forward_kinematics
from backend.motion.rotations import quat_to_axis_angle
from backend.progress import JobControl
from backend.vocabulary.rates import MOTION_FPS as FPS
from backend.vocabulary.skeleton import JOINT_INDEX as J, PELVIS_REST_HEIGHT, UPPER_JOINTS

WRISTS = (J["left_wrist"], J["right_wrist"])


def fk(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return forward_kinematics(np.asarray(poses, np.float64), np.asarray(trans, np.float64))


def wrist_clearance(pos: np.ndarray) -> np.ndarray:
    """(T, 2) horizontal distance of each wrist from the pelvis–neck line at the wrist's height."""
    pelvis, neck = pos[:, J["pelvis"]], pos[:, J["neck"]]
    out = []
    for w in WRISTS:
        u = np.clip((pos[:, w, 1] - pelvis[:, 1]) / (neck[:, 1] - pelvis[:, 1]), 0.0, 1.0)[:, None]
        axis = pelvis + u * (neck - pelvis)
        out.append(np.linalg.norm((pos[:, w] - axis)[:, [0, 2]], axis=-1))
    return np.stack(out, axis=1)


def synthetic_analysis(duration: float, speech_spans: list[tuple[float, float]] | None = None,
                       seed: int = 0) -> SpeechAnalysis:
    """Hand-built analysis: syllables every 0.15–0.3 s inside the spans, 40 % of them stressed."""
    rng = np.random.default_rng(seed)
    n = int(round(duration * FPS))
    t = np.arange(n) / FPS
    spans = [(0.3, duration - 0.3)] if speech_spans is None else speech_spans
    speech = np.zeros(n, bool)
    syllables = []
    for a, b in spans:
        speech[(t >= a) & (t < b)] = True
        x = a + 0.1
        while x < b - 0.1:
            syllables.append(x)
            x += rng.uniform(0.15, 0.3)
    syl = np.asarray(syllables, dtype=np.float64)
    stresses = syl[rng.random(len(syl)) < 0.4]
    onset_strength = np.zeros(n, np.float32)
    onset_strength[np.clip((syl * FPS).astype(int), 0, max(n - 1, 0))] = 0.7
    return SpeechAnalysis(
        duration=duration, n_frames=n, loudness=np.where(speech, 0.6, 0.0).astype(np.float32), speech=speech,
        voiced=speech.copy(), f0=np.where(speech, 120.0, 0.0).astype(np.float32), onset_strength=onset_strength,
        formants=np.zeros((n, 2), np.float32), fricative=np.zeros(n, np.float32), onsets=syl,
        pitch_accents=stresses[::2], accent_strength=np.full(len(stresses[::2]), 0.7), stresses=stresses,
        stress_strength=rng.uniform(0.4, 1.0, len(stresses)), segments=list(spans), phones=[],
        phone_source="acoustic", phone_confidence=0.0)


@pytest.fixture(scope="module")
def conversation(shared_dir, tmp_path_factory) -> SpeechAnalysis:
    """Real speech with real pauses: 7 LJSpeech clips joined by 1.3–2.2 s of silence (≈ 60 s), analysed."""
    rng = np.random.default_rng(0)
    parts, rate = [], None
    for path in sorted((shared_dir / "data" / "speech" / "ljspeech").glob("*.wav"))[:7]:
        x, rate = sf.read(path, dtype="float32")
        parts += [x, np.zeros(int(rate * rng.uniform(1.3, 2.2)), np.float32)]
    wav = tmp_path_factory.mktemp("body") / "conversation.wav"
    sf.write(wav, np.concatenate(parts), rate)
    return analyze_speech(load_audio(wav))


@pytest.fixture(scope="module")
def mean_speed(shared_dir) -> np.ndarray:
    return np.load(shared_dir / "data" / "beat2_mean_joint_speed.npy", allow_pickle=False)


@pytest.fixture(scope="module")
def neutral_take(conversation):
    poses, trans = generate_body(conversation, "neutral", 0.5, np.random.default_rng(0))
    _, pos = fk(poses, trans)
    return poses, trans, pos


# --- geometry --------------------------------------------------------------------------------

def test_hand_shapes_are_relative_to_the_mean_relaxed_hand():
    assert MEAN_RELAXED_HAND.shape == (30, 3)
    assert np.allclose(hand_shape("relaxed", "left"), 0.0) and np.allclose(hand_shape("relaxed", "right"), 0.0)
    poses = np.zeros((4, 55, 3))
    for i, name in enumerate(("relaxed", "fist", "point", "spread")):
        poses[i, 25:40], poses[i, 40:55] = hand_shape(name, "left"), hand_shape(name, "right")
    poses[:, 25:55] = to_flat_hand(poses[:, 25:55])
    _, pos = fk(poses, np.zeros((4, 3)))
    tips = {f: (J[f"left_{f}3"], J[f"right_{f}3"]) for f in ("index", "middle", "ring", "pinky")}
    reach = {f: np.linalg.norm(pos[:, list(js)] - pos[:, list(WRISTS)], axis=-1) for f, js in tips.items()}
    relaxed, fist, point, spread = range(4)
    for f in tips:  # a fist pulls every fingertip toward the wrist; mirror symmetry holds
        assert np.all(reach[f][fist] < reach[f][relaxed] - 0.02)
        assert abs(reach[f][relaxed, 0] - reach[f][relaxed, 1]) < 2e-3
    assert np.all(reach["index"][point] > reach["middle"][point] + 0.03)  # index extended
    spread_width = np.linalg.norm(pos[spread, J["left_index3"]] - pos[spread, J["left_pinky3"]])
    relaxed_width = np.linalg.norm(pos[relaxed, J["left_index3"]] - pos[relaxed, J["left_pinky3"]])
    assert spread_width > relaxed_width + 0.02
    assert {"relaxed", "open", "spread", "fist", "point", "count_1", "count_2", "count_3"} <= set(HAND_SHAPES)


def test_arm_ik_reaches_targets_with_the_authored_palm():
    targets = np.array([key.wrist for key in (REST_POSES["arms_down"], READY_POSE, GESTURES[0].stroke)])
    twist = np.array([0.0, -90.0, 90.0])
    q_sh, q_el, q_wr = arm_ik(targets, np.tile([1.0, 0, 0, 0], (3, 1)), twist, np.zeros(3), np.zeros(3))
    poses = np.zeros((3, 55, 3))
    poses[:, J["left_shoulder"]], poses[:, J["left_elbow"]] = quat_to_axis_angle(q_sh), quat_to_axis_angle(q_el)
    poses[:, J["left_wrist"]] = quat_to_axis_angle(q_wr)
    rot, pos = fk(poses, np.zeros((3, 3)))
    assert np.allclose(pos[:, J["left_wrist"]] - pos[:, J["spine3"]], targets, atol=0.01)
    # rest arms hang: the shoulder turns the T-pose arm (+X) ≈ 70–85° down
    upper = pos[0, J["left_elbow"]] - pos[0, J["left_shoulder"]]
    assert np.degrees(np.arcsin(-upper[1] / np.linalg.norm(upper))) > 70
    palm = rot[:, J["left_wrist"]] @ np.array([0.0, -1.0, 0.0])  # T-pose palm faces −Y
    assert palm[1, 1] > 0.8 and palm[2, 1] < -0.8                 # palm up / palm down


def test_leg_ik_pins_both_feet_while_the_pelvis_moves():
    n = 50
    pelvis = np.stack([0.03 * np.sin(np.linspace(0, 6, n)), np.full(n, PELVIS_REST_HEIGHT - 0.03),
                       0.01 * np.cos(np.linspace(0, 4, n))], axis=1)
    q_pelvis = np.zeros((n, 4))
    q_pelvis[:, 0], q_pelvis[:, 3] = np.cos(0.03), np.sin(0.03)  # 3.4° roll
    poses = np.zeros((n, 55, 3))
    poses[:, 0] = quat_to_axis_angle(q_pelvis)
    for side in ("left", "right"):
        q = leg_ik(pelvis, q_pelvis, rest_ankle_position(side), side)
        for name, qq in zip(("hip", "knee", "ankle"), q):
            poses[:, J[f"{side}_{name}"]] = quat_to_axis_angle(qq)
    rot, pos = fk(poses, pelvis)
    for side in ("left", "right"):
        assert np.abs(pos[:, J[f"{side}_ankle"]] - rest_ankle_position(side)).max() < 1e-6
        assert np.allclose(rot[:, J[f"{side}_ankle"]], np.eye(3), atol=1e-6)  # foot stays level
    assert foot_sliding(pos, FPS) < 1e-6


# --- vocabulary ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [g.name for g in GESTURES])
def test_every_gesture_produces_valid_poses_outside_the_torso(kind):
    analysis = synthetic_analysis(6.0, seed=1)
    params = BodyParams(vocabulary=(kind,))
    plan = plan_gestures(analysis, emotion_style("neutral", 0.5), "neutral", 0.5, np.random.default_rng(0), params)
    assert len(plan) >= 3 and {g.kind.name for g in plan} == {kind}
    poses, trans = generate_body(analysis, "neutral", 0.5, np.random.default_rng(0), params=params)
    assert np.isfinite(poses).all() and np.isfinite(trans).all()
    _, pos = fk(poses, trans)
    assert wrist_clearance(pos).min() > 0.14
    gesturing = [w for w, side in zip(WRISTS, ("left", "right")) if any(side in g.hands for g in plan)]
    assert np.ptp(pos[:, gesturing], axis=0).max() > 0.08  # the gesturing hand really moves


def test_vocabulary_is_data_with_at_least_twelve_kinds():
    assert len(GESTURES) >= 12 and len(REST_POSES) >= 2
    names = {g.name for g in GESTURES}
    assert {"beat", "palm_up_offer", "two_hand_frame", "point", "self_point", "shrug", "dismiss", "count",
            "chop", "hands_together"} <= names
    assert any(g.two_handed for g in GESTURES) and any(not g.two_handed for g in GESTURES)
    for g in GESTURES:
        assert g.prep.shape in HAND_SHAPES and g.stroke.shape in HAND_SHAPES
        assert g.stroke_s > 0 and g.hold_s > 0 and min(g.weights.values()) >= 0
    with pytest.raises(ValueError):
        plan_gestures(synthetic_analysis(3.0), emotion_style("neutral", 0.5), "neutral", 0.5,
                      np.random.default_rng(0), BodyParams(vocabulary=("moonwalk",)))


# --- acceptance on real speech ---------------------------------------------------------------

def test_output_contract(neutral_take, conversation):
    poses, trans, pos = neutral_take
    assert poses.shape == (conversation.n_frames, 55, 3) and poses.dtype == np.float32
    assert trans.shape == (conversation.n_frames, 3) and trans.dtype == np.float32
    assert np.all(poses[:, 22:25] == 0.0)  # jaw and eyes are the face's
    assert abs(float(np.median(trans[:, 1])) - PELVIS_REST_HEIGHT) < 0.05
    feet = pos[:, [J["left_foot"], J["right_foot"]], 1]
    assert abs(feet.min()) < 0.02  # on the floor, not in it


def test_statistics_match_conversational_mocap(neutral_take):
    poses, trans, pos = neutral_take
    ratio = upper_body_angular_speed(poses, FPS) / 0.65
    assert 0.7 <= ratio <= 1.3, ratio
    assert root_drift_per_minute(trans, FPS) <= 0.3
    assert foot_sliding(pos, FPS) < 0.01
    jit = jitter(pos, FPS)
    noisy = pos + np.random.default_rng(0).normal(0.0, 0.002, pos.shape)  # 2 mm sensor-like noise
    assert jit < 60.0 and jitter(noisy, FPS) > 4 * jit
    assert wrist_clearance(pos).min() > 0.13  # hands never pass through the torso


def test_strokes_align_with_speech_onsets_better_than_shuffled(neutral_take, conversation, mean_speed):
    _, _, pos = neutral_take
    bc = beat_consistency(pos, conversation.onsets, FPS, mean_speed)
    rng = np.random.default_rng(1)
    lo, hi = 2.0, conversation.duration - 2.0
    shuffled = [beat_consistency(pos, np.sort(rng.uniform(lo, hi, len(conversation.onsets))), FPS, mean_speed)
                for _ in range(30)]
    assert bc > np.mean(shuffled) + 2 * np.std(shuffled) / np.sqrt(len(shuffled)), (bc, np.mean(shuffled))
    assert bc > np.percentile(shuffled, 80)


def test_pauses_return_to_rest_with_only_idle_motion(neutral_take, conversation):
    poses, trans, pos = neutral_take
    gaps = [(a[1], b[0]) for a, b in zip(conversation.segments[:-1], conversation.segments[1:]) if b[0] - a[1] > 1.2]
    assert len(gaps) >= 4
    for start, end in gaps:
        # Some 0.2 s of every pause has both hands lowered and still. Not always its middle: within the
        # real speed envelope (issue 12) the next phrase's preparation takes up to ~1 s, and in a 1.9 s
        # pause it starts before the middle, as a speaker's does.
        windows = []
        for first in range(int(start * FPS), int(end * FPS) - 6):
            mid = slice(first, first + 6)
            rel = pos[mid][:, list(WRISTS)] - pos[mid][:, [J["spine3"]]]
            speed = np.linalg.norm(np.diff(pos[mid][:, list(WRISTS)], axis=0), axis=-1).mean() * FPS
            windows.append((rel[..., 1].mean(), speed))
        # hands lowered to a rest pose (sides, or together at the navel), with idle motion only
        assert any(height < -0.08 and speed < 0.1 for height, speed in windows), (start, end)


def test_silence_is_rest_pose_with_idle_motion_only():
    silent = replace(synthetic_analysis(20.0, speech_spans=[]), stresses=np.zeros(0), stress_strength=np.zeros(0),
                     onsets=np.zeros(0), pitch_accents=np.zeros(0), accent_strength=np.zeros(0))
    poses, trans = generate_body(silent, "neutral", 0.5, np.random.default_rng(3))
    rot, pos = fk(poses, trans)
    rel = pos[:, list(WRISTS)] - pos[:, [J["spine3"]]]
    assert rel[..., 1].max() < -0.08
    # in the chest's frame (the slow posture sway of the trunk carries the hands along): only idle drift
    # and micro-motion over 20 s, no gestures
    chest = np.einsum("tji,tpj->tpi", rot[:, J["spine3"]], rel)
    assert np.ptp(chest, axis=0).max() < 0.08
    assert np.ptp(trans[:, [0, 2]], axis=0).max() > 0.005  # but it breathes and shifts weight
    assert upper_body_angular_speed(poses, FPS) < 0.5 * 0.65


def test_same_seed_is_identical_and_takes_differ(conversation, neutral_take):
    poses, trans, pos = neutral_take
    again, again_t = generate_body(conversation, "neutral", 0.5, np.random.default_rng(0))
    assert np.array_equal(poses, again) and np.array_equal(trans, again_t)
    other, other_t = generate_body(conversation, "neutral", 0.5, np.random.default_rng(1))
    _, other_pos = fk(other, other_t)
    distance = np.linalg.norm(pos - other_pos, axis=-1)[:, list(UPPER_JOINTS)].mean()
    step = np.linalg.norm(np.diff(pos, axis=0), axis=-1)[:, list(UPPER_JOINTS)].mean()  # per-frame motion
    assert distance > 0.02 and distance > 5 * step, (distance, step)
    style = emotion_style("neutral", 0.5)
    plans = [plan_gestures(conversation, style, "neutral", 0.5, np.random.default_rng(s), BodyParams()) for s in (0, 1)]
    assert [(g.kind.name, g.hands) for g in plans[0]] != [(g.kind.name, g.hands) for g in plans[1]]


def test_emotions_change_the_body(conversation):
    """Posture over 4 seeds: the slow posture wander of one seed leans a minute by up to ±5° (angry's mean chest
    lean was −0.9° and 6.7° for seed 0 on two recogniser settings, 1.9–6.7° over seeds 0–3); the emotion's
    own posture is what is compared."""
    stats = {}
    for emotion in ("sad", "angry", "happy", "surprised", "neutral"):
        seeds = []
        for seed in range(4):
            poses, trans = generate_body(conversation, emotion, 1.0, np.random.default_rng(seed))
            rot, pos = fk(poses, trans)
            head_fwd = rot[:, J["head"]] @ np.array([0.0, 0.0, 1.0])
            seeds.append(dict(
                speed=upper_body_angular_speed(poses, FPS),
                # signed forward tilt of the chest (the unsigned tilt from vertical grows with the posture
                # wander of every emotion alike: angry's 4° lean read as 10°)
                flexion=np.degrees(np.arcsin(-(rot[:, J["spine3"]] @ np.array([0.0, 0.0, 1.0]))[:, 1])).mean(),
                head_down=np.degrees(np.arcsin(-head_fwd[:, 1])).mean(),
                wrist_height=(pos[:, list(WRISTS), 1] - pos[:, [J["spine3"]], 1]).mean(),
                collar=(pos[:, [J["left_shoulder"], J["right_shoulder"]], 1] - pos[:, [J["spine3"]], 1]).mean(),
                strokes=len(plan_gestures(conversation, emotion_style(emotion, 1.0), emotion, 1.0,
                                          np.random.default_rng(seed), BodyParams()))))
        stats[emotion] = {k: float(np.mean([s[k] for s in seeds])) for k in seeds[0]}
    sad, angry, happy, surprised, neutral = (stats[e] for e in ("sad", "angry", "happy", "surprised", "neutral"))
    # 0.9 (was 0.8): sad must also keep every joint's median speed ≥ 0.5 × real mocap (issue 12), and
    # its posture wander and living micro-motion put it at 0.82–0.86 × angry
    assert sad["speed"] < 0.9 * angry["speed"] and sad["speed"] < neutral["speed"]
    assert sad["flexion"] > angry["flexion"] + 5 and sad["head_down"] > neutral["head_down"] + 5
    assert happy["strokes"] > sad["strokes"] * 1.5
    assert surprised["head_down"] < neutral["head_down"] - 4          # head back
    assert surprised["collar"] > neutral["collar"] + 0.005            # shoulders raised
    assert surprised["wrist_height"] > sad["wrist_height"]


@pytest.mark.slow  # an hour of body motion (19 s)
def test_lengths_from_a_fraction_of_a_second_to_an_hour():
    short = synthetic_analysis(0.2, speech_spans=[(0.0, 0.2)])
    poses, trans = generate_body(short, "happy", 0.5, np.random.default_rng(0))
    assert poses.shape == (6, 55, 3) and np.isfinite(poses).all()

    # the cost per minute and its linearity up to an hour are measured by benchmarks/bench_builtin.py
    hour = synthetic_analysis(3600.0, seed=3)
    reports = []
    control = JobControl(on_progress=lambda f, stage: reports.append(f))
    poses, trans = generate_body(hour, "neutral", 0.5, np.random.default_rng(0), control)
    assert poses.shape == (108_000, 55, 3) and np.isfinite(poses).all()
    assert len(reports) > 10 and reports[-1] == pytest.approx(1.0)
    assert root_drift_per_minute(trans, FPS) <= 0.3


def test_cancel_lands_between_chunks():
    event = threading.Event()
    calls = []

    def progress(fraction, stage):
        calls.append(fraction)
        event.set()  # cancel after the first chunk

    with pytest.raises(Cancelled):
        generate_body(synthetic_analysis(600.0), "neutral", 0.5, np.random.default_rng(0),
                      JobControl(on_progress=progress, cancel_event=event))
    assert len(calls) == 1


# --- metrics ---------------------------------------------------------------------------------

def test_body_metrics_detect_what_they_claim(mean_speed):
    n = 300
    t = np.arange(n) / FPS
    pos = np.zeros((n, 55, 3))
    pos[:, :, 1] = 1.0
    pos[:, J["left_foot"], 1] = 0.0
    pos[:, J["left_foot"], 0] = 0.02 * t  # a foot skating 2 cm/s while on the floor
    assert foot_sliding(pos, FPS) == pytest.approx(0.02 * t[-1], rel=0.02)
    trans = np.stack([0.5 * t / t[-1], np.ones(n), np.zeros(n)], axis=1)
    assert root_drift_per_minute(trans, FPS) == pytest.approx(0.5)
    # motion that stops exactly on the beats scores higher than against beats half a period off
    beats = np.arange(2.5, 8.0, 1.0)
    # speed 0.1 (1.5 − cos 2π(t − 0.5)) m/s: minima at whole seconds + 0.5
    x = 0.1 * (1.5 * t - np.sin(2 * np.pi * (t - 0.5)) / (2 * np.pi))
    pos[:, list(UPPER_JOINTS), 0] = x[:, None]
    assert beat_consistency(pos, beats, FPS, mean_speed) > 0.95
    assert beat_consistency(pos, beats + 0.5, FPS, mean_speed) < 0.3


# --- posture a viewer notices (knees, shoulders, where the hands rest, finger curl) ---------------

HAND_POINTS = tuple(J[f"{s}_{n}"] for s in ("left", "right") for n in ("wrist", "middle1", "middle3", "index3"))


def test_standing_knees_nearly_straight_and_feet_under_the_hips(neutral_take):
    """A relaxed stance: the straighter knee flexes ≈ 3°, the unloaded one a little more during weight
    shifts, never both a lot; the ankles stay about hip-width apart."""
    poses, trans, pos = neutral_take
    knees = np.linalg.norm(poses[:, [J["left_knee"], J["right_knee"]]], axis=-1)
    assert knees.min(axis=1).max() < 0.08
    assert np.median(knees) < 0.12 and knees.max() < 0.25
    hips = np.abs(pos[:, J["left_hip"], 0] - pos[:, J["right_hip"], 0]).mean()
    ankles = np.abs(pos[:, J["left_ankle"], 0] - pos[:, J["right_ankle"], 0]).mean()
    assert hips - 0.02 < ankles < hips + 0.08


def test_collars_rest_near_zero(neutral_take, conversation):
    """No shrug at rest: collars move only with breathing and raised hands."""
    poses, _, _ = neutral_take
    collars = np.linalg.norm(poses[:, [J["left_collar"], J["right_collar"]]], axis=-1)
    # living micro-motion and the slow collar wander keep collars within several degrees (real mocap:
    # 4–7° spread, issue 12; the wander and the rounding with the hand's reach put the median at 6.8°)
    # shrug gestures and raised hands only: over seeds 0–3 of this minute p99 is 0.31–0.38 rad and the peak
    # 0.43–0.45 rad (a shrug, 0.5–2 s of the minute)
    assert np.median(collars) < 0.14 and np.percentile(collars, 99) < 0.40 and collars.max() < 0.5
    silent = ~np.asarray(conversation.speech, dtype=bool)
    # in pauses they round or draw back with where the hands rest (behind the back ≈ −6°) and wander
    # (p90 over seeds 0–5 of this minute: 0.18–0.26 rad, with the rest the hands reached)
    assert np.percentile(collars[silent], 90) < 0.28


def test_rest_poses_hang_at_the_sides_rest_at_the_navel_or_behind_the_back():
    """arms_down: wrists beside the thighs; hands_together: wrists above the hip joints, elbows ≈ 90°;
    hands_behind: wrists behind the pelvis, near the midline, elbows bent back."""
    silent = replace(synthetic_analysis(6.0, speech_spans=[]), stresses=np.zeros(0), stress_strength=np.zeros(0),
                     onsets=np.zeros(0), pitch_accents=np.zeros(0), accent_strength=np.zeros(0))
    seen = set()
    for seed in range(12):
        poses, trans = generate_body(silent, "neutral", 0.5, np.random.default_rng(seed))
        _, pos = fk(poses, trans)
        wrist = pos[:, list(WRISTS)] - pos[:, [J["pelvis"]]]
        elbows = np.degrees(np.linalg.norm(poses[:, [J["left_elbow"], J["right_elbow"]]], axis=-1))
        # each hand on its own: a speaker may hold one hand behind the back or low and the other not
        for w, elbow in zip(np.moveaxis(wrist, 1, 0), elbows.T):
            if w[:, 2].max() < -0.1:  # behind the back
                seen.add("hands_behind")
                assert np.all(np.abs(w[:, 0]) < 0.15) and np.all(w[:, 1] < 0.15)
                assert np.all(w[:, 2] > -0.3)  # resting on the back, not reaching out behind
            elif np.abs(w[:, 0]).min() > 0.15:  # at the sides (or low at the hip, thumb as in a pocket)
                seen.add("arms_down")
                # at hip height, beside the thigh: the trunk's slow posture wander (issue 12) carries a
                # hanging hand some 3 cm up and forward with it
                assert np.all(w[:, 2] < 0.11) and np.all(w[:, 1] < 0.04)
            else:
                seen.add("hands_together")
                assert np.all(w[:, 1] > 0.12) and np.all(np.abs(w[:, 0]) < 0.12)
                assert np.all((elbow > 65) & (elbow < 110))
    assert seen == {"arms_down", "hands_together", "hands_behind"}


@pytest.mark.parametrize("emotion", ["neutral", "sad", "angry"])
def test_hands_stay_away_from_the_groin(conversation, emotion):
    """No knuckle or fingertip in front of the groin (pelvis frame: |x| < 7 cm, up to 25 cm below the hip
    joints, less than 22 cm in front: closer than a gesture held out in front of the body) except in
    passing (< 0.5 % of frames over 4 takes; a slumped, sad chest must not lower them there)."""
    at_groin = []
    for seed in range(4):
        poses, trans = generate_body(conversation, emotion, 1.0, np.random.default_rng(seed))
        flat = np.asarray(poses, np.float64).copy()
        flat[:, 25:55] = to_flat_hand(flat[:, 25:55])
        glob, pos = forward_kinematics(flat, np.asarray(trans, np.float64))
        local = np.einsum("tji,tpj->tpi", glob[:, J["pelvis"]], pos[:, list(HAND_POINTS)] - pos[:, [J["pelvis"]]])
        at_groin.append(((np.abs(local[..., 0]) < 0.07) & (local[..., 1] < 0.0) & (local[..., 1] > -0.25)
                         & (local[..., 2] > 0.0) & (local[..., 2] < 0.22)).any(axis=1))
    at_groin = np.concatenate(at_groin)
    assert at_groin.mean() < 0.005, f"{at_groin.sum()} of {len(at_groin)} frames with a hand at the groin"


def test_fingers_and_thumb_curl_toward_the_palm():
    """FK of the shapes on both hands: a fist pulls each fingertip toward the palm side and the thumb tip
    across the palm (toward the little finger), never backwards; 'point' keeps the index straight."""
    shapes = ("flat", "fist", "point")
    poses = np.zeros((len(shapes), 55, 3))
    for i, name in enumerate(shapes):
        poses[i, 25:40], poses[i, 40:55] = hand_shape(name, "left"), hand_shape(name, "right")
    poses[:, 25:55] = to_flat_hand(poses[:, 25:55])
    glob, pos = fk(poses, np.zeros((len(shapes), 3)))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        wrist = pos[:, J[f"{side}_wrist"]]
        palm = np.array([0.0, -1.0, 0.0])                      # T-pose: palms face down
        along = np.array([sign, 0.0, 0.0])                     # fingers point away from the body
        for f in ("index", "middle", "ring", "pinky"):
            move = pos[1, J[f"{side}_{f}3"]] - pos[0, J[f"{side}_{f}3"]]
            assert move @ palm > 0.01 and move @ along < -0.03, (side, f)
        thumb = pos[:, J[f"{side}_thumb3"]] - wrist
        assert (thumb[1] - thumb[0]) @ palm > 0.02                       # into the palm
        assert (thumb[1] - thumb[0]) @ np.array([0.0, 0.0, -1.0]) > 0.02  # across, toward the pinky side
        assert abs((pos[2, J[f"{side}_index3"]] - pos[0, J[f"{side}_index3"]]) @ palm) < 0.03
