"""EMAGE as an Orator body engine: what Orator adds around the published network.

- Prompts enter as EMAGE masks: prompted joints (6D) and root positions are written into the masked-motion
  input with the mask cleared on those channels and frames, in every window; the pipeline's apply_prompts
  then makes them exact, as for every engine.
- Takes: take 1 is the official argmax; later takes draw each body code from the classifier heads
  (temperature, top-k) with the take's seeded generator. The face keeps its latent path in every take.
- Root motion (users report drift and sliding with the official release: PantoMatrix #209, #212): the
  global net's steps are replaced by "the contact foot stays put" wherever the lower-body decode predicts
  a foot contact, and the horizontal drift is capped with a soft radius.
- The whole clip is covered: the audio is padded so the official framing (which may drop the last 4-8
  frames) still yields every analysed frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import binary_erosion, gaussian_filter1d

from ...errors import UserError
from ...motion.dynamics import enforce_dynamics
from ...progress import JobControl
from ...vocabulary.face import NUM_ARKIT
from ...vocabulary.rates import AUDIO_RATE, MOTION_FPS
from ...vocabulary.skeleton import JAW_JOINT, NUM_JOINTS
from ..interface import BodyMotion, EngineRequest
from .checkpoint import load_weights
from .inference import EmageModel, Sampling
from .rotations import axis_angle_to_rot6d

TAKE_SAMPLING = Sampling(temperature=0.7, top_k=8)   # takes ≥ 2
CONTACT_JOINTS = (7, 8, 10, 11)                       # contact channels 333:337: L/R ankle, L/R foot
CONTACT_THRESHOLD = 0.5
DRIFT_RADIUS_M = 0.6                                  # the root never strays further from its start (soft above 0.3)
STEP_SMOOTH_FRAMES = 1.5                              # Gaussian sigma on root steps: no jerk at contact changes


@dataclass
class EmageBody:
    """One take: Orator-convention body, the EMAGE face and what the post-process used."""
    poses: np.ndarray           # (T, 55, 3)
    trans: np.ndarray           # (T, 3)
    expressions: np.ndarray     # (T, 100) FLAME
    jaw: np.ndarray             # (T, 3) EMAGE's own jaw axis-angle
    contacts: np.ndarray        # (T, 4) predicted contact 0..1 of joints 7, 8, 10, 11


def padded_frames(n_frames: int, window: int = 64, seed: int = 4) -> int:
    """The smallest frame count ≥ n_frames (and > 2·seed) whose official output keeps every frame."""
    t = max(n_frames, 2 * seed + 1)
    hop = window - seed
    while (t - seed) % hop <= seed:
        t += 1
    return t


def samples_for_frames(t: int) -> int:
    """Fewest 16 kHz samples L with L·30 // 16000 == t."""
    return -(-t * AUDIO_RATE // MOTION_FPS)


def prompt_masks(prompts, n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Orator prompts (as read, or already spread over n_frames) → (masked motion (T, 337), mask (T, 337) with
    0 = given, first given root position)."""
    d = prompts.dense(n_frames) if hasattr(prompts, "dense") else prompts
    motion = np.zeros((n_frames, 337), np.float32)
    mask = np.ones((n_frames, 337), np.float32)
    r6 = axis_angle_to_rot6d(torch.from_numpy(np.asarray(d.poses, np.float32))).numpy()   # (T, 55, 6)
    for j in range(NUM_JOINTS):
        rows = d.pose_mask[:, j]
        motion[rows, 6 * j:6 * j + 6] = r6[rows, j]
        mask[rows, 6 * j:6 * j + 6] = 0.0
    motion[d.trans_mask, 330:333] = d.trans[d.trans_mask]
    mask[d.trans_mask, 330:333] = 0.0
    first = d.trans[np.argmax(d.trans_mask)].astype(np.float32) if d.trans_mask.any() else None
    return motion, mask, first


def plant_feet(poses: np.ndarray, trans: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """Root path where a foot in contact does not slide; horizontal drift softly capped.

    poses (T, 55, 3), trans (T, 3) from the global net, contacts (T, 4) → trans (T, 3). Where any contact
    joint is in contact on two consecutive frames, the root's x/z step is the one that keeps those joints'
    mean x/z still; elsewhere the net's own step. Height: the net's, shifted so the feet meet y = 0.
    """
    from ...motion.kinematics import forward_kinematics

    t = len(poses)
    _, rel = forward_kinematics(poses, np.zeros((t, 3)))           # joint positions with the root at 0
    feet = rel[:, list(CONTACT_JOINTS)]                            # (T, 4, 3)
    on = contacts >= CONTACT_THRESHOLD
    step = np.diff(np.asarray(trans, np.float64)[:, [0, 2]], axis=0)             # (T-1, 2) net steps
    both = on[1:] & on[:-1]                                        # (T-1, 4) contact held across the step
    foot_step = feet[1:, :, [0, 2]] - feet[:-1, :, [0, 2]]         # (T-1, 4, 2) relative foot motion
    n = both.sum(1, keepdims=True)
    planted = -(foot_step * both[..., None]).sum(1) / np.maximum(n, 1)
    held = n[:, 0] > 0
    step = np.where(held[:, None], planted, step)
    if t > 2:  # smooth only around contact changes: inside a held contact the foot stays exactly put
        core = binary_erosion(held, np.ones(5, bool), border_value=1)
        step = np.where(core[:, None], step, gaussian_filter1d(step, STEP_SMOOTH_FRAMES, axis=0, mode="nearest"))
    xz = np.concatenate([np.zeros((1, 2)), np.cumsum(step, axis=0)]) + np.asarray(trans[0], np.float64)[[0, 2]]
    off = xz - xz[:1]
    dist = np.linalg.norm(off, axis=1, keepdims=True)
    capped = soft_cap(dist, DRIFT_RADIUS_M)
    xz = xz[:1] + off * np.where(dist > 1e-9, capped / np.maximum(dist, 1e-9), 1.0)
    y = np.asarray(trans, np.float64)[:, 1]
    sole = (rel[:, list(CONTACT_JOINTS), 1] + y[:, None])          # joint heights with the net's root height
    ground = np.median(sole.min(axis=1))
    out = np.stack([xz[:, 0], y - ground, xz[:, 1]], axis=1)
    return out.astype(np.float32)


def soft_cap(d: np.ndarray, limit: float) -> np.ndarray:
    """Distances unchanged up to limit/2 (planted feet stay planted), then eased (C1) toward `limit`."""
    knee = 0.5 * limit
    return np.where(d <= knee, d, knee + (limit - knee) * np.tanh((d - knee) / (limit - knee)))


class EmageGenerator:
    """One loaded EMAGE folder on one device."""

    def __init__(self, folder: str | Path, device: str) -> None:
        self.model = EmageModel(load_weights(folder, device))

    def run(self, samples16k: np.ndarray, n_frames: int, rng: np.random.Generator, take: int,
            prompts=None, control: JobControl | None = None) -> EmageBody:
        """Body + face for n_frames of 16 kHz speech (padded with silence to the framing it needs)."""
        t = padded_frames(n_frames, self.model.cfg.pose_length, self.model.cfg.seed_frames)
        audio = np.zeros(samples_for_frames(t), np.float32)
        audio[:min(len(samples16k), len(audio))] = samples16k[:len(audio)]
        mm = mk = ref = None
        if prompts is not None:
            motion, mask, first = prompt_masks(prompts, n_frames)
            mm, mk = torch.from_numpy(motion), torch.from_numpy(mask)
            ref = None if first is None else torch.from_numpy(first)
        sampling = Sampling() if take <= 1 else TAKE_SAMPLING
        gen = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
        inf = self.model.infer(torch.from_numpy(audio), mm, mk, sampling=sampling, generator=gen,
                               want_face_cls=False, control=control)
        out = self.model.decode(inf, ref)
        poses = out["axis_angle"][0].cpu().numpy().reshape(-1, NUM_JOINTS, 3)[:n_frames].astype(np.float32)
        trans = out["trans"][0].cpu().numpy()[:n_frames]
        contacts = out["vqdec"]["lower"][0, :n_frames, 57:61].cpu().numpy() if out["vqdec"]["lower"] is not None \
            else np.zeros((n_frames, 4), np.float32)
        expressions = out["expression"][0].cpu().numpy()[:n_frames].astype(np.float32)
        jaw = poses[:, JAW_JOINT].copy()
        trans = plant_feet(poses, trans, contacts)
        return EmageBody(poses, trans, expressions, jaw, contacts)


class EmageBodyEngine:
    """EMAGE behind the one engine interface: one loaded folder on one device.

    Body and face: BodyMotion carries EMAGE's FLAME expressions and jaw besides the body.
    """

    name = "emage"

    def __init__(self, folder: str | Path, device: str) -> None:
        self.generator = EmageGenerator(folder, device)

    def generate_body(self, request: EngineRequest) -> BodyMotion:
        """See EmageGenerator.run; request.take 1 is the official argmax."""
        analysis = request.analysis
        if analysis.samples is None:
            raise UserError("the EMAGE engine needs the audio waveform (SpeechAnalysis.samples)")
        body = self.generator.run(analysis.samples, analysis.n_frames, request.rng, request.take, request.prompts,
                                  request.control)
        # Human joint ranges and speeds (issue 12) on what the pipeline keys; run() and --raw stay the
        # network's own result. Legs and jaw are not limited, so the planted feet stay planted.
        return BodyMotion(enforce_dynamics(body.poses, analysis.fps), body.trans, body.expressions, body.jaw)


def load_flame_to_arkit(path: str) -> np.ndarray:
    """A user's (100, 52) FLAME → ARKit matrix (FLAME expression × ARKit curve, Apple order), never unpickling."""
    from ...fileio import read_matrix
    # ARKit weights are 0..1 and FLAME coefficients a few units: entries of 1e3 and more are a wrong scale
    return read_matrix(path, (100, NUM_ARKIT), "FLAME→ARKit matrix (FLAME expression × ARKit curve)", max_abs=1e3)


def face_from_flame(arkit: np.ndarray, expressions: np.ndarray, jaw: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """ARKit curves driven by EMAGE's face: each curve the matrix maps (a non-zero column) becomes
    clip(expressions @ M); jawOpen follows EMAGE's jaw pitch; other curves (eyes, blinks) stay the face engine's."""
    from ...motion.face_joints import JAW_OPEN_MAX_RAD
    from ...vocabulary.face import ARKIT_INDEX

    out = np.array(arkit, np.float32)
    mapped = np.abs(matrix).sum(0) > 0
    out[:, mapped] = np.clip(expressions @ matrix, 0.0, 1.0)[:, mapped]
    out[:, ARKIT_INDEX["jawOpen"]] = np.clip(jaw[:, 0] / JAW_OPEN_MAX_RAD, 0.0, 1.0)
    return out
