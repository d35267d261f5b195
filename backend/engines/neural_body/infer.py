"""Windowed autoregressive inference: 64-frame windows, the previous window's last 4 frames carried as
seed frames, 60 new frames per window, any length.

Seams: where a window continues the previous one, a cubic Hermite correction makes the new frames start
at the seed frames' position *and* velocity and fades out over JOIN_FRAMES (C1 continuity: no step and
no kink, whatever the network made of the seeds). Around user keys the window is pulled toward every
given frame with an offset that fades out over BLEND_FRAMES; given channels at given frames are then
written back exactly (in the output's axis-angle too).
Takes: body codes are sampled from the classifier with temperature and top-p from a seeded generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from ...models import BODY_MODEL, shipped_model
from ...progress import JobControl
from .features import PART_JOINTS, integrate_trans, motion_to_parts, parts_to_poses, rhythm_features
from .global_motion import LOWER_TRANS
from .model import NeuralBodyModel
from .windows import audio_span

BLEND_FRAMES = 8
JOIN_FRAMES = 16
DEFAULT_CHECKPOINT = shipped_model(BODY_MODEL)


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.9
    top_p: float = 0.9
    smooth_sigma: float = 1.5       # Gaussian smoothing (frames) of decoded windows; 0 = none


@dataclass(frozen=True)
class KnownMotion:
    """Motion the user fixes. poses (T,55,3) axis-angle, trans (T,3); joint_mask (T,55) bool: that joint's
    rotation is given on that frame; trans_mask (T,) bool: the root position is given on that frame."""

    poses: np.ndarray
    trans: np.ndarray
    joint_mask: np.ndarray
    trans_mask: np.ndarray


@dataclass(frozen=True)
class GeneratedMotion:
    poses: np.ndarray                 # (T, 55, 3) float32
    trans: np.ndarray                 # (T, 3) float32
    expressions: np.ndarray | None    # (T, 100) float32 when the model has a face part


def sample_codes(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator
                 ) -> torch.Tensor:
    """(T, K) logits → (T,) codes sampled from the smallest set holding top_p of the tempered probability."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float().cpu() / temperature, dim=-1)
    sorted_p, order = probs.sort(dim=-1, descending=True)
    keep = sorted_p.cumsum(-1) - sorted_p < top_p          # always keeps the most likely code
    sorted_p = sorted_p * keep
    choice = torch.multinomial(sorted_p / sorted_p.sum(-1, keepdim=True), 1, generator=generator)
    return order.gather(-1, choice).squeeze(-1).to(logits.device)


def blend_toward_known(generated: np.ndarray, known: np.ndarray, mask: np.ndarray, reach: int = BLEND_FRAMES
                       ) -> np.ndarray:
    """Per channel, add the offset (known − generated) of the nearest given frame, faded by a raised cosine
    over `reach` frames, and copy given frames exactly. (T, C) arrays, mask (T, C) bool → (T, C)."""
    t, c = generated.shape
    if not mask.any():
        return generated
    frames = np.arange(t)[:, None].repeat(c, axis=1)
    last = np.maximum.accumulate(np.where(mask, frames, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(mask, frames, t)[::-1], axis=0)[::-1]
    delta = np.where(mask, known - generated, 0.0)
    cols = np.arange(c)[None, :].repeat(t, axis=0)

    def fade(anchor: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.abs(frames - anchor)
        w = np.where(valid & (d < reach), 0.5 * (1.0 + np.cos(np.pi * d / reach)), 0.0)
        return w, delta[np.clip(anchor, 0, t - 1), cols]

    w_last, d_last = fade(last, last >= 0)
    w_next, d_next = fade(nxt, nxt < t)
    offset = (w_last * d_last + w_next * d_next) / np.maximum(1.0, w_last + w_next)
    return np.where(mask, known, generated + offset)


def continue_from_seeds(generated: np.ndarray, seeds: np.ndarray, reach: int = JOIN_FRAMES) -> np.ndarray:
    """Join a window to the frames before it with C1 continuity.

    generated (T, C): the window as decoded, its first S frames standing where `seeds` (S, C) are; S ≥ 2.
    Returns (T, C): seeds on the first S frames, then generated + c(d), d = frames after the last seed, where
    c is a cubic Hermite curve with c(0) = seed − generated at the last seed frame, c(reach) = c'(reach) = 0,
    and its start tangent chosen so the first new frame takes exactly the seeds' last step.
    """
    s = len(seeds)
    out = generated.copy()
    out[:s] = seeds
    last = s - 1
    offset = seeds[last] - generated[last]
    step = (seeds[last] - seeds[last - 1]) - (generated[last + 1] - generated[last])

    def basis(u):
        return 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u   # h00 (value), h10 (tangent)

    h00_1, h10_1 = basis(1.0 / reach)
    tangent = (offset + step - h00_1 * offset) / h10_1         # so that c(1) − c(0) = step
    d = np.arange(1, min(reach, len(generated) - last))
    h00, h10 = basis((d / reach)[:, None])
    out[last + 1:last + 1 + len(d)] += h00 * offset + h10 * tangent
    return out


def known_features(model: NeuralBodyModel, known: KnownMotion) -> tuple[np.ndarray, np.ndarray]:
    """User-given motion → (normalised features (T, D), channel mask (T, D) bool)."""
    cfg = model.cfg
    parts = motion_to_parts(known.poses, known.trans, None, cfg.fps, cfg.parts)
    feats = np.concatenate([parts[p] for p in cfg.parts], axis=1)
    feats = (feats - model.mean.cpu().numpy()) / model.std.cpu().numpy()
    mask = np.zeros(feats.shape, bool)
    for p in cfg.parts:
        start = model.slices[p].start
        for k, j in enumerate(PART_JOINTS[p]):
            mask[:, start + 6 * k:start + 6 * k + 6] = known.joint_mask[:, j, None]
        if p == "lower":
            mask[:, start + LOWER_TRANS.start:start + LOWER_TRANS.stop] = known.trans_mask[:, None]
    return feats.astype(np.float32), mask


@torch.no_grad()
def generate_motion(model: NeuralBodyModel, samples16k: np.ndarray, n_frames: int, seed: int,
                    speaker: int | None = None,
                    sampling: SamplingParams = SamplingParams(), known: KnownMotion | None = None,
                    control: JobControl | None = None) -> GeneratedMotion:
    """Body motion for 16 kHz speech; n_frames at the model's fps. Deterministic for a seed (per device).
    speaker: a speaker id seen in training; None = the checkpoint's default (its most frequent one)."""
    cfg = model.cfg
    device = model.mean.device
    w, s = cfg.window, cfg.seed_frames
    hop = w - s
    n_windows = max(1, -(-(n_frames - s) // hop)) if n_frames > w else 1
    total = s + n_windows * hop if n_frames > w else w
    samples16k = np.asarray(samples16k, np.float32)
    rhythm = np.zeros((total, 2), np.float32)
    rhythm[:n_frames] = rhythm_features(samples16k, n_frames, cfg.fps)
    given = np.zeros((total, model.motion_dim), np.float32)
    given_mask = np.zeros((total, model.motion_dim), bool)
    if known is not None:
        kf, km = known_features(model, known)
        given[:n_frames], given_mask[:n_frames] = kf[:n_frames], km[:n_frames]
    out = np.zeros((total, model.motion_dim), np.float32)
    generator = torch.Generator().manual_seed(int(seed) % (2**63))
    speaker = cfg.transformer.default_speaker if speaker is None else speaker
    spk = torch.tensor([min(int(speaker), cfg.transformer.speakers - 1)], device=device)
    for k in range(n_windows):
        if control is not None:
            control.report(k / n_windows, "body")
        a = k * hop
        x, mask = given[a:a + w].copy(), given_mask[a:a + w].copy()
        if k > 0:
            x[:s], mask[:s] = out[a:a + s], True
        wave = torch.from_numpy(audio_span(samples16k, a, w, cfg))[None].to(device)
        rh = torch.from_numpy(rhythm[a:a + w])[None].to(device) if cfg.transformer.rhythm else None
        audio = model.transformer.audio(wave, w, rh)
        mask_t = torch.from_numpy(mask.astype(np.float32))[None].to(device)
        heads = model.transformer(torch.from_numpy(x)[None].to(device), mask_t, audio, spk)
        window = np.zeros((w, model.motion_dim), np.float32)
        for p, (latent, logits) in heads.items():
            vq = model.vq[p]
            dec = vq.decode(latent) if p == "face" else \
                vq.decode_codes(sample_codes(logits[0], sampling.temperature, sampling.top_p, generator)[None])
            window[:, model.slices[p]] = dec[0].float().cpu().numpy()
        if sampling.smooth_sigma > 0:  # code switches from a weakly trained classifier show as jitter
            window = gaussian_filter1d(window, sampling.smooth_sigma, axis=0, mode="nearest")
        if k > 0:
            window = continue_from_seeds(window, x[:s])
        out[a:a + w] = blend_toward_known(window, x, mask)
    out = out[:n_frames]
    raw = out * model.std.cpu().numpy() + model.mean.cpu().numpy()
    parts = {p: raw[:, model.slices[p]] for p in cfg.parts}
    poses = parts_to_poses({p: v for p, v in parts.items() if p != "face"}, n_frames)
    expressions = None
    if "face" in parts:
        poses[:, PART_JOINTS["face"][0]] = parts_to_poses({"face": parts["face"]}, n_frames)[:, PART_JOINTS["face"][0]]
        expressions = parts["face"][:, 6:].astype(np.float32)
    trans = root_trajectory(model, out, n_frames, known)
    if known is not None:
        poses[known.joint_mask[:n_frames]] = np.asarray(known.poses, np.float32)[:n_frames][known.joint_mask[:n_frames]]
    if control is not None:
        control.report(1.0, "body")
    return GeneratedMotion(poses, trans, expressions)


def root_trajectory(model: NeuralBodyModel, features: np.ndarray, n_frames: int, known: KnownMotion | None
                    ) -> np.ndarray:
    """(T, D) normalised features → (T, 3) root positions: global-motion net velocities integrated from the
    origin (or from given positions, re-anchored after each given frame), absolute height."""
    from ...vocabulary.skeleton import PELVIS_REST_HEIGHT

    if model.global_motion is None:
        trans = np.zeros((n_frames, 3), np.float32)
        trans[:, 1] = PELVIS_REST_HEIGHT
    else:
        lower = torch.from_numpy(features[:, model.slices["lower"]])[None].to(model.mean.device)
        pred = model.global_motion(lower)[0].float().cpu().numpy()
        sl = model.slices["lower"]
        std = model.std.cpu().numpy()[sl][LOWER_TRANS]
        mean = model.mean.cpu().numpy()[sl][LOWER_TRANS]
        feats = pred * std + mean
        trans = integrate_trans(feats, model.cfg.fps)
    if known is None or not known.trans_mask[:n_frames].any():
        return trans
    given = np.asarray(known.trans, np.float64)[:n_frames]
    mask = known.trans_mask[:n_frames]
    step = np.diff(trans[:, [0, 2]], axis=0, prepend=trans[:1, [0, 2]])
    out = np.array(trans, np.float64)
    for t in range(n_frames):  # re-anchor x/z after each given frame; height as given where given
        if mask[t]:
            out[t] = given[t]
        elif t > 0:
            out[t, [0, 2]] = out[t - 1, [0, 2]] + step[t]
    return out.astype(np.float32)

