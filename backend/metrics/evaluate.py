"""Scoring body engines against real motion (docs/metrics.md), as `python -m backend evaluate` runs it.

- BC: body.beat_consistency with the audio beats = onsets of backend.audio's analysis and the BEAT2
  mean joint speed (shared data/beat2_mean_joint_speed.npy).
- FD_g / FD_k (Audio2Photoreal style): Fréchet distance between Gaussian fits of per-frame pose features
  (pelvis-relative FK positions of every joint but jaw and eyes) and of their frame-to-frame differences.
- FGD (EMAGE style): Fréchet distance between latent features of 64-frame windows from a motion
  autoencoder trained on the real clips being scored (trained here, seeded).
- L1div: per clip, Σ over frames and coordinates |x_t − mean_t x| of those positions / frame count.
- take variance: mean over frames and coordinates of the variance across takes of the same audio.
- jitter (m/s³) and upper-body angular speed (rad/s) from metrics.body, because BC alone rewards jitter.
Floors: the same distances between two halves of the real clips.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import linalg

from ..formats.smplx_joints import EYE_JOINTS, JAW_JOINT
from ..motion.kinematics import forward_kinematics
from ..motion.rotations import axis_angle_to_matrix, matrix_to_rot6d
from .body import beat_consistency, jitter, upper_body_angular_speed

EVAL_JOINTS = tuple(j for j in range(55) if j != JAW_JOINT and j not in EYE_JOINTS)
FGD_WINDOW = 64


@dataclass(frozen=True)
class EvaluationSettings:
    seed: int = 0
    takes: int = 2
    fgd_steps: int = 300
    fgd_latent: int = 32


def pose_features(poses: np.ndarray) -> np.ndarray:
    """(T, 55, 3) axis-angle → (T, 52·3) pelvis-relative joint positions (root translation removed)."""
    _, pos = forward_kinematics(np.asarray(poses, np.float64), np.zeros((len(poses), 3)))
    return pos[:, list(EVAL_JOINTS)].reshape(len(poses), -1)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of samples a (N, D) and b (M, D)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    eye = 1e-9 * np.eye(a.shape[1])  # keeps the product's square root defined for rank-deficient fits
    ca, cb = np.cov(a, rowvar=False) + eye, np.cov(b, rowvar=False) + eye
    covmean = np.real(linalg.sqrtm(ca @ cb))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(ca) + np.trace(cb) - 2.0 * np.trace(covmean))


def l1_diversity(features: np.ndarray) -> float:
    """(T, D) positions → Σ_t Σ_d |x_td − mean_t x_d| / T."""
    f = np.asarray(features, np.float64)
    return float(np.abs(f - f.mean(0)).sum() / max(len(f), 1))


def take_variance(takes: list[np.ndarray]) -> float:
    """Takes of the same audio, each (T, D) → mean over frames and coordinates of the across-take variance."""
    if len(takes) < 2:
        return float("nan")
    return float(np.stack(takes).var(axis=0).mean())


def rot6d_windows(poses_list: list[np.ndarray], stride: int = 16) -> np.ndarray:
    """Motion clips (T, 55, 3) → (W, 64, 52·6) rot6d windows of the evaluated joints."""
    out = []
    for poses in poses_list:
        r6 = matrix_to_rot6d(axis_angle_to_matrix(np.asarray(poses, np.float64)[:, list(EVAL_JOINTS)]))
        r6 = r6.reshape(len(poses), -1).astype(np.float32)
        out += [r6[s:s + FGD_WINDOW] for s in range(0, len(r6) - FGD_WINDOW + 1, stride)]
    return np.stack(out) if out else np.zeros((0, FGD_WINDOW, len(EVAL_JOINTS) * 6), np.float32)


def train_fgd_encoder(real_windows: np.ndarray, steps: int, latent: int = 32, seed: int = 0):
    """A conv autoencoder on real rot6d windows (W, 64, F); returns its encoder (window → (latent,) features)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    f = real_windows.shape[-1]
    encoder = nn.Sequential(nn.Conv1d(f, 128, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv1d(128, 128, 4, 2, 1),
                            nn.LeakyReLU(0.2), nn.Conv1d(128, latent, 3, 1, 1))
    decoder = nn.Sequential(nn.ConvTranspose1d(latent, 128, 4, 2, 1), nn.LeakyReLU(0.2),
                            nn.ConvTranspose1d(128, 128, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv1d(128, f, 3, 1, 1))
    opt = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
    data = torch.from_numpy(real_windows).transpose(1, 2)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = data[torch.randint(0, len(data), (min(32, len(data)),), generator=g)]
        loss = ((decoder(encoder(x)) - x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    encoder.eval()

    def encode(windows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return encoder(torch.from_numpy(windows).transpose(1, 2)).mean(-1).numpy().astype(np.float64)
    return encode


@dataclass
class EngineScores:
    bc: list[float]
    l1div: list[float]
    take_var: list[float]
    poses: list[np.ndarray]
    jitter: list[float]
    angular_speed: list[float]

    def summary(self, real_poses_feats: np.ndarray, real_vel: np.ndarray, fgd_encode, real_latent) -> dict:
        feats = [pose_features(p) for p in self.poses]
        f = np.concatenate(feats)
        v = np.concatenate([np.diff(x, axis=0) for x in feats])
        gen_windows = rot6d_windows(self.poses)
        return {"BC": _nanmean(self.bc), "L1div": _nanmean(self.l1div), "take_variance": _nanmean(self.take_var),
                "jitter": _nanmean(self.jitter), "upper_rad_s": _nanmean(self.angular_speed),
                "FD_g": frechet_distance(f, real_poses_feats), "FD_k": frechet_distance(v, real_vel),
                "FGD": frechet_distance(fgd_encode(gen_windows), real_latent) if len(gen_windows) > 2
                else float("nan")}


def _nanmean(x: list[float]) -> float:
    x = [v for v in x if np.isfinite(v)]
    return float(np.mean(x)) if x else float("nan")


def default_mean_speed_path() -> Path:
    from ..paths import default_shared_dir
    return default_shared_dir() / "data" / "beat2_mean_joint_speed.npy"


def evaluate_folder(data_dir: Path, engines: tuple[str, ...], settings: EvaluationSettings = EvaluationSettings(),
                    checkpoint: str | None = None, device: str = "auto", mean_speed_path: Path | None = None,
                    log: Callable[[str], None] | None = None) -> dict:
    """Generate with each engine over each clip's audio and score against the clips' real motion."""
    from ..audio.analyze import analyze_speech
    from ..audio.io import LoadedAudio
    from ..engines.neural_body.beat2 import read_beat2_folder
    from ..engines.interface import EngineRequest
    from ..engines.registry import BODY_ENGINES, EngineCache
    from ..errors import UserError
    from ..options import GenerateOptions
    from ..pipeline import take_rng
    from ..progress import JobControl

    mean_speed = np.load(mean_speed_path or default_mean_speed_path(), allow_pickle=False)
    clips = read_beat2_folder(data_dir)
    unknown = [e for e in engines if e not in BODY_ENGINES]
    if unknown:
        raise UserError(f"unknown engine(s) {', '.join(unknown)}: choose from {', '.join(BODY_ENGINES)}")
    options = {e: GenerateOptions(engine=e, device=device, seed=settings.seed,
                                  checkpoint=checkpoint if e == "neural" else None).validated() for e in engines}
    loaded = EngineCache()
    instances = {e: loaded.body(options[e]) for e in engines}
    real = EngineScores([], [], [], [], [], [])
    scores = {e: EngineScores([], [], [], [], [], []) for e in engines}
    analyses: dict[bytes, object] = {}
    for i, clip in enumerate(clips):
        key = clip.audio[:: max(1, len(clip.audio) // 4096)].tobytes()
        if key not in analyses:
            audio = LoadedAudio(clip.audio.astype(np.float32), 16000, 16000, 1, "array")
            analysis = analyze_speech(audio, None, "en")
            analysis.samples = audio.samples
            analyses[key] = analysis
        analysis = analyses[key]
        n = min(clip.n_frames, analysis.n_frames)
        _, pos = forward_kinematics(clip.poses[:n].astype(np.float64), clip.trans[:n].astype(np.float64))
        real.bc.append(beat_consistency(pos, analysis.onsets, 30, mean_speed))
        real.l1div.append(l1_diversity(pose_features(clip.poses[:n])))
        real.poses.append(clip.poses[:n])
        real.jitter.append(jitter(pos, 30))
        real.angular_speed.append(upper_body_angular_speed(clip.poses[:n], 30))
        for e in engines:
            takes = []
            for k in range(settings.takes):
                rng = take_rng(settings.seed, k + 1).spawn(2)[1]
                body = instances[e].generate_body(EngineRequest(analysis, options[e].emotion, options[e].intensity,
                                                                rng, JobControl()))
                poses, trans = body.poses, body.trans
                poses, trans = np.asarray(poses)[:n], np.asarray(trans)[:n]
                _, gpos = forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
                scores[e].bc.append(beat_consistency(gpos, analysis.onsets, 30, mean_speed))
                feats = pose_features(poses)
                scores[e].l1div.append(l1_diversity(feats))
                scores[e].poses.append(poses)
                scores[e].jitter.append(jitter(gpos, 30))
                scores[e].angular_speed.append(upper_body_angular_speed(poses, 30))
                takes.append(feats)
            scores[e].take_var.append(take_variance(takes))
        if log is not None:
            log(f"evaluated {i + 1}/{len(clips)}: {clip.name}")
    real_feats = [pose_features(p) for p in real.poses]
    rf = np.concatenate(real_feats)
    rv = np.concatenate([np.diff(x, axis=0) for x in real_feats])
    real_windows = rot6d_windows(real.poses)
    if len(real_windows) < 4:
        raise UserError("too little real motion to score: need clips of at least a few seconds")
    encode = train_fgd_encoder(real_windows, settings.fgd_steps, settings.fgd_latent, settings.seed)
    real_latent = encode(real_windows)
    half_a, half_b = real_feats[0::2], real_feats[1::2]
    floor = {}
    if half_b:
        fa, fb = np.concatenate(half_a), np.concatenate(half_b)
        wa, wb = rot6d_windows(real.poses[0::2]), rot6d_windows(real.poses[1::2])
        floor = {"FD_g": frechet_distance(fa, fb),
                 "FD_k": frechet_distance(np.concatenate([np.diff(x, axis=0) for x in half_a]),
                                          np.concatenate([np.diff(x, axis=0) for x in half_b])),
                 "FGD": frechet_distance(encode(wa), encode(wb)) if len(wa) > 2 and len(wb) > 2 else float("nan")}
    return {"data": str(data_dir), "clips": len(clips), "seconds": round(len(rf) / 30.0, 1),
            "takes": settings.takes, "checkpoint": checkpoint,
            "real": {"BC": _nanmean(real.bc), "L1div": _nanmean(real.l1div), "jitter": _nanmean(real.jitter),
                     "upper_rad_s": _nanmean(real.angular_speed)},
            "real_halves": floor,
            "engines": {e: s.summary(rf, rv, encode, real_latent) for e, s in scores.items()}}


def format_report(report: dict) -> str:
    cols = ("BC", "FGD", "FD_g", "FD_k", "L1div", "take_variance", "jitter", "upper_rad_s")
    lines = [f"{report['clips']} clips, {report['seconds']} s of real motion, {report['takes']} takes per clip",
             f"{'':14s}" + "".join(f"{c:>14s}" for c in cols)]
    rows = [("real", report["real"]), ("real halves", report["real_halves"])]
    rows += [(e, s) for e, s in report["engines"].items()]
    for name, vals in rows:
        lines.append(f"{name:14s}" + "".join(f"{vals[c]:14.4f}" if c in vals else f"{'-':>14s}" for c in cols))
    return "\n".join(lines)
