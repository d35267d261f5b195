"""Training data for the body generator: BEAT2-layout folders → per-part rot6d features + audio windows.

A BEAT2-layout folder holds, anywhere below it, one SMPL-X motion npz per clip (BEAT2: `smplxflame_30/`)
and a wav with the same stem (BEAT2: `wave16k/`), optionally a Praat TextGrid with the same stem
(BEAT2: `textgrid/`). The speaker id is the leading integer of the stem (`2_scott_0_1_1` → 2), else 0.
Training windows are `window` frames long every `stride` frames.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...audio.features import HOP, log_mel, to_motion_rate
from ...errors import UserError
from ...formats.motion_npz import NUM_EXPRESSIONS, read_motion_npz
from ...motion.kinematics import forward_kinematics
from ...motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_rot6d, rot6d_to_matrix
from ...vocabulary.rates import AUDIO_RATE, MOTION_FPS
from ...vocabulary.skeleton import HAND_JOINTS, JAW_JOINT, JOINT_INDEX, LOWER_JOINTS, NUM_JOINTS, UPPER_JOINTS
from .config import PART_WIDTHS, NeuralBodyConfig

CONTACT_JOINTS = (JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"],
                  JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"])
CONTACT_STEP_M = 0.01           # a foot joint moving less than this per frame is planted (EMAGE)
PART_JOINTS = {"upper": UPPER_JOINTS, "hands": HAND_JOINTS, "lower": LOWER_JOINTS, "face": (JAW_JOINT,)}
RHYTHM_CHANNELS = 2             # amplitude envelope, onset impulses


@dataclass
class BodyClip:
    """One recording with its motion. poses (T,55,3) axis-angle; trans (T,3); expressions (T,100);
    audio (N,) float32 16 kHz mono; words [(start s, end s, word)] from a TextGrid when there is one."""

    name: str
    speaker: int
    poses: np.ndarray
    trans: np.ndarray
    expressions: np.ndarray
    audio: np.ndarray
    words: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(len(self.poses))


def foot_contacts(positions: np.ndarray) -> np.ndarray:
    """(T, 55, 3) joint positions → (T, 4) float32 1 where ankle/foot joints move < 1 cm per frame."""
    p = positions[:, list(CONTACT_JOINTS)]
    step = np.linalg.norm(np.diff(p, axis=0, prepend=p[:1]), axis=-1)
    if len(p) > 1:
        step[0] = step[1]
    return (step < CONTACT_STEP_M).astype(np.float32)


def trans_features(trans: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) root position → (T, 3) (x velocity m/s, absolute y m, z velocity m/s); velocity of frame t
    is trans[t] − trans[t−1] (0 at t = 0), so integrating from trans[0] gives trans back exactly."""
    trans = np.asarray(trans, np.float64)
    vel = np.diff(trans, axis=0, prepend=trans[:1]) * fps
    return np.stack([vel[:, 0], trans[:, 1], vel[:, 2]], axis=1).astype(np.float32)


def integrate_trans(features: np.ndarray, fps: float, start_xz: np.ndarray | None = None) -> np.ndarray:
    """Inverse of trans_features: (T, 3) (vx, y, vz) → (T, 3) positions, x/z starting at start_xz."""
    f = np.asarray(features, np.float64)
    xz = np.cumsum(f[:, [0, 2]] / fps, axis=0)
    xz -= xz[:1]
    if start_xz is not None:
        xz += np.asarray(start_xz, np.float64)
    return np.stack([xz[:, 0], f[:, 1], xz[:, 1]], axis=1).astype(np.float32)


def motion_to_parts(poses: np.ndarray, trans: np.ndarray, expressions: np.ndarray | None, fps: float,
                    parts: tuple[str, ...]) -> dict[str, np.ndarray]:
    """SMPL-X motion → per-part features (see config.py for the layout).

    poses (T,55,3), trans (T,3), expressions (T,≥100) or None → {part: (T, width) float32}.
    """
    poses = np.asarray(poses, np.float64)
    t = len(poses)
    r6 = matrix_to_rot6d(axis_angle_to_matrix(poses)).astype(np.float32)  # (T,55,6)
    out = {}
    for part in parts:
        if part == "face":
            expr = np.zeros((t, NUM_EXPRESSIONS), np.float32) if expressions is None else \
                np.asarray(expressions, np.float32)[:, :NUM_EXPRESSIONS]
            if expr.shape[1] < NUM_EXPRESSIONS:
                expr = np.pad(expr, ((0, 0), (0, NUM_EXPRESSIONS - expr.shape[1])))
            out[part] = np.concatenate([r6[:, JAW_JOINT], expr], axis=1)
        elif part == "lower":
            _, pos = forward_kinematics(poses, np.asarray(trans, np.float64))
            out[part] = np.concatenate([r6[:, list(LOWER_JOINTS)].reshape(t, -1), trans_features(trans, fps),
                                        foot_contacts(pos)], axis=1)
        else:
            out[part] = r6[:, list(PART_JOINTS[part])].reshape(t, -1)
        assert out[part].shape[1] == PART_WIDTHS[part]
    return out


def parts_to_poses(parts: dict[str, np.ndarray], n_frames: int) -> np.ndarray:
    """Per-part features → (T, 55, 3) float32 axis-angle; joints of absent parts stay zero (rest / mean
    relaxed hand). Trans and contact channels are ignored here (see global_motion)."""
    poses = np.zeros((n_frames, NUM_JOINTS, 3), np.float32)
    for part, feats in parts.items():
        joints = list(PART_JOINTS[part])
        r6 = np.asarray(feats[:, :6 * len(joints)], np.float64).reshape(n_frames, len(joints), 6)
        poses[:, joints] = matrix_to_axis_angle(rot6d_to_matrix(r6)).astype(np.float32)
    return poses


def rhythm_features(samples16k: np.ndarray, n_frames: int, fps: int = MOTION_FPS) -> np.ndarray:
    """Amplitude envelope and onset impulses of speech at the motion rate.

    samples16k (N,) → (n_frames, 2) float32: [0] log-mel energy scaled to 0..1 over the clip's
    5th..99th percentile; [1] 1 on frames holding a spectral-flux peak that stands out of its
    surroundings, else 0.
    """
    mel = log_mel(np.asarray(samples16k, np.float32))
    energy = np.log(np.exp(mel).sum(axis=1) + 1e-6)
    lo, hi = np.percentile(energy, [5, 99]) if len(energy) else (0.0, 1.0)
    env = np.clip((energy - lo) / max(hi - lo, 1e-3), 0.0, 1.0)
    flux = np.maximum(np.diff(mel, axis=0, prepend=mel[:1]), 0.0).mean(axis=1)
    ref = np.percentile(flux, 98) if len(flux) else 1.0
    flux = flux / max(ref, 1e-6)
    k = np.arange(1, len(flux) - 1)
    is_peak = np.zeros(len(flux), bool)
    is_peak[k] = (flux[k] > flux[k - 1]) & (flux[k] >= flux[k + 1]) & (flux[k] > 0.3) & (env[k] > 0.2)
    impulses = np.zeros(n_frames, np.float32)
    frames = np.clip(np.round(np.flatnonzero(is_peak) * HOP / AUDIO_RATE * fps).astype(int), 0, max(n_frames - 1, 0))
    impulses[frames] = 1.0
    return np.stack([to_motion_rate(env, n_frames, fps), impulses], axis=1).astype(np.float32)


def read_textgrid_words(path: Path) -> list[tuple[float, float, str]]:
    """Non-empty word intervals (start, end, text) of the first interval tier of a Praat TextGrid."""
    text = path.read_text(encoding="utf-8", errors="replace")
    words = []
    for m in re.finditer(r'xmin\s*=\s*([\d.]+)\s*xmax\s*=\s*([\d.]+)\s*text\s*=\s*"([^"]*)"', text):
        if m.group(3).strip():
            words.append((float(m.group(1)), float(m.group(2)), m.group(3).strip()))
    return words


def speaker_of(stem: str) -> int:
    m = re.match(r"(\d+)_", stem)
    return int(m.group(1)) if m else 0


def read_beat2_folder(root: str | Path, limit: int | None = None) -> list[BodyClip]:
    """Every (npz, audio) pair with the same stem below `root`, sorted by name."""
    from ...audio.io import load_audio

    root = Path(root)
    if not root.is_dir():
        raise UserError(f"training data folder not found: {root}")
    audio = {p.stem: p for ext in ("wav", "flac", "ogg") for p in root.rglob(f"*.{ext}")}
    grids = {p.stem: p for p in root.rglob("*.TextGrid")}
    clips = []
    for npz in sorted(root.rglob("*.npz"), key=lambda p: p.stem):
        if npz.stem not in audio:
            continue
        motion = read_motion_npz(npz)
        if motion.fps != MOTION_FPS:
            raise UserError(f"{npz.name}: motion must be {MOTION_FPS} fps (got {motion.fps}); resample it first")
        samples = load_audio(audio[npz.stem]).samples
        n = min(motion.n_frames, int(len(samples) * MOTION_FPS // AUDIO_RATE))
        words = read_textgrid_words(grids[npz.stem]) if npz.stem in grids else []
        clips.append(BodyClip(npz.stem, speaker_of(npz.stem), motion.poses[:n], motion.trans[:n],
                              motion.expressions[:n], samples[:int(n * AUDIO_RATE / MOTION_FPS)], words))
        if limit is not None and len(clips) >= limit:
            break
    if not clips:
        raise UserError(f"no (motion .npz, audio) pairs with matching names found under {root}")
    return clips


@dataclass
class WindowSet:
    """All training windows of some clips, as arrays ready for batching.

    motion (W, window, D) features of the config's parts concatenated; rhythm (W, window, 2);
    audio (W, window·16000/30) float32; speaker (W,) int64.
    """

    motion: np.ndarray
    rhythm: np.ndarray
    audio: np.ndarray
    speaker: np.ndarray


def window_starts(n_frames: int, window: int, stride: int) -> list[int]:
    return list(range(0, n_frames - window + 1, stride)) if n_frames >= window else []


def samples_per_window(config: NeuralBodyConfig) -> int:
    return int(round(config.window * config.sample_rate / config.fps))


def audio_span(samples: np.ndarray, start_frame: int, n_frames: int, config: NeuralBodyConfig) -> np.ndarray:
    """Audio samples of frames [start, start + n) (zero-padded past the end). → (n·16000/30,) float32"""
    per = config.sample_rate / config.fps
    a = int(round(start_frame * per))
    n = int(round(n_frames * per))
    out = np.zeros(n, np.float32)
    piece = np.asarray(samples[a:a + n], np.float32)
    out[:len(piece)] = piece
    return out


def build_windows(clips: list[BodyClip], config: NeuralBodyConfig) -> WindowSet:
    motion, rhythm, audio, speaker = [], [], [], []
    for clip in clips:
        parts = motion_to_parts(clip.poses, clip.trans, clip.expressions, config.fps, config.parts)
        feats = np.concatenate([parts[p] for p in config.parts], axis=1)
        rh = rhythm_features(clip.audio, clip.n_frames, config.fps)
        for s in window_starts(clip.n_frames, config.window, config.stride):
            motion.append(feats[s:s + config.window])
            rhythm.append(rh[s:s + config.window])
            audio.append(audio_span(clip.audio, s, config.window, config))
            speaker.append(min(clip.speaker, config.transformer.speakers - 1))
    if not motion:
        raise UserError(f"no clip is at least {config.window} frames long ({config.window / config.fps:.1f} s)")
    return WindowSet(np.stack(motion).astype(np.float32), np.stack(rhythm), np.stack(audio),
                     np.asarray(speaker, np.int64))


def write_builtin_dataset(audio_files: list[Path], out_dir: str | Path, takes: int = 3, speaker: int = 1,
                          transcripts: dict[str, str] | None = None, log=None) -> Path:
    """A BEAT2-layout folder of built-in engine motion over real speech: for each audio file and take k,
    `smplxflame_30/<speaker>_<stem>_<k>.npz` + `wave16k/<same>.wav` (16 kHz). Shippable training data
    when no co-speech mocap is available; also what the tests train on."""
    import soundfile as sf

    from ...audio.analyze import analyze_speech
    from ...audio.io import load_audio
    from ...formats.motion_npz import write_motion_npz
    from ..builtin.body import generate_body

    out_dir = Path(out_dir)
    (out_dir / "smplxflame_30").mkdir(parents=True, exist_ok=True)
    (out_dir / "wave16k").mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(audio_files):
        audio = load_audio(path)
        text = (transcripts or {}).get(Path(path).stem)
        analysis = analyze_speech(audio, text, "en")
        for k in range(takes):
            poses, trans = generate_body(analysis, "neutral", 0.5, np.random.default_rng([i, k]))
            name = f"{speaker}_{Path(path).stem}_{k}"
            write_motion_npz(out_dir / "smplxflame_30" / f"{name}.npz", poses, trans,
                             np.zeros((len(poses), 52), np.float32))
            sf.write(out_dir / "wave16k" / f"{name}.wav", audio.samples, AUDIO_RATE, subtype="PCM_16")
        if log is not None:
            log(f"built-in motion {i + 1}/{len(audio_files)}: {Path(path).name} × {takes}")
    return out_dir
