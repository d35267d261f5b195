"""Scoring body motion against real motion (docs/metrics.md); app/evaluate.py runs the engines for
`python -m backend evaluate`.

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

import numpy as np
from scipy import linalg

from ..motion.kinematics import forward_kinematics
from ..motion.rotations import axis_angle_to_matrix, matrix_to_rot6d
from ..vocabulary.skeleton import EYE_JOINTS, JAW_JOINT, NUM_JOINTS

EVAL_JOINTS = tuple(j for j in range(NUM_JOINTS) if j != JAW_JOINT and j not in EYE_JOINTS)
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
        return {"BC": mean_or_nan(self.bc), "L1div": mean_or_nan(self.l1div), "take_variance": mean_or_nan(self.take_var),
                "jitter": mean_or_nan(self.jitter), "upper_rad_s": mean_or_nan(self.angular_speed),
                "FD_g": frechet_distance(f, real_poses_feats), "FD_k": frechet_distance(v, real_vel),
                "FGD": frechet_distance(fgd_encode(gen_windows), real_latent) if len(gen_windows) > 2
                else float("nan")}


def mean_or_nan(x: list[float]) -> float:
    x = [v for v in x if np.isfinite(v)]
    return float(np.mean(x)) if x else float("nan")


def format_report(report: dict) -> str:
    cols = ("BC", "FGD", "FD_g", "FD_k", "L1div", "take_variance", "jitter", "upper_rad_s")
    lines = [f"{report['clips']} clips, {report['seconds']} s of real motion, {report['takes']} takes per clip",
             f"{'':14s}" + "".join(f"{c:>14s}" for c in cols)]
    rows = [("real", report["real"]), ("real halves", report["real_halves"])]
    rows += [(e, s) for e, s in report["engines"].items()]
    for name, vals in rows:
        lines.append(f"{name:14s}" + "".join(f"{vals[c]:14.4f}" if c in vals else f"{'-':>14s}" for c in cols))
    return "\n".join(lines)
