"""Personalisation (Imitator): fit a new speaking style from a short reference take.

Stage 1 optimises only a style embedding with the viseme features computed once; stage 2 also refines
the final linear deformation basis, with an L2 pull toward the generic basis so it does not drift.
A style file (.orstyle) is a small torch file of tensors, strings and numbers, loaded with
weights_only=True.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ...errors import UserError
from ...vocabulary.face import NUM_ARKIT
from ...vocabulary.rates import MOTION_FPS
from ..torch_files import read_tagged
from .channels import SPEECH_CHANNELS, SPEECH_INDEX
from .features import motion_rate_log_mel
from .model import FaceModelConfig, NeuralFaceModel

STYLE_FORMAT = "orator-face-style"
STYLE_VERSION = 1
MIN_REFERENCE_SECONDS = 2.0
MAX_LENGTH_MISMATCH = 0.10


@dataclass(frozen=True)
class PersonalizeParams:
    embedding_steps: int = 300
    basis_steps: int = 300
    embedding_lr: float = 0.03
    basis_lr: float = 3e-3
    basis_regularizer: float = 1e-4   # × sum of squared basis changes
    velocity_weight: float = 10.0
    init_style: int = 0               # start from the generic model's default style
    windows: int = 8                  # each step fits random windows, not the whole take: cost per
    window: int = 90                  # step stays flat however long the reference is
    seed: int = 0


@dataclass(frozen=True)
class FaceStyle:
    """embedding (D,); basis_weight_delta (C, H); basis_bias_delta (C,); meta: plain values."""

    embedding: torch.Tensor
    basis_weight_delta: torch.Tensor
    basis_bias_delta: torch.Tensor
    meta: dict


# ----------------------------------------------------------------------------------------------
# reference curves

def read_reference_curves(path: str | Path) -> np.ndarray:
    """Face curves of the reference take → (T, 52) float32 at 30 fps.

    Live Link Face CSV (any frame rate; resampled), or an npz with `arkit` (T, 52) — Orator's
    motion.npz or a plain one; its rate comes from `mocap_frame_rate`/`fps` when present, else 30.
    """
    from ...formats.livelink_csv import FaceCurves, read_livelink_csv

    path = Path(path)
    if not path.is_file():
        raise UserError(f"reference face curves not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        curves = read_livelink_csv(path)
        if len(curves.times) < 2:
            raise UserError(f"{path.name} has fewer than 2 frames: the reference must be at least "
                            f"{MIN_REFERENCE_SECONDS:g} s long")
        return curves.resampled(MOTION_FPS).arkit
    if suffix != ".npz":
        raise UserError(f"{path.name}: the reference must be a Live Link Face .csv or an .npz with 'arkit' (T, 52)")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path.name} is not a readable npz ({exc.__class__.__name__})") from None
    try:
        with data:
            if "arkit" not in data.files:
                raise UserError(f"{path.name} has no 'arkit' array: expected ARKit curves (T, 52) at 30 fps")
            arkit = np.asarray(data["arkit"], np.float64)
            fps = next((float(data[k]) for k in ("mocap_frame_rate", "mocap_framerate", "fps") if k in data.files),
                       float(MOTION_FPS))
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path.name}: unreadable arrays ({exc.__class__.__name__}); pickled objects are refused") from None
    if arkit.ndim != 2 or arkit.shape[1] != NUM_ARKIT:
        raise UserError(f"{path.name}: 'arkit' must be (T, 52), got {arkit.shape}")
    if len(arkit) == 0:
        raise UserError(f"{path.name}: 'arkit' is empty")
    if not np.all(np.isfinite(arkit)):
        raise UserError(f"{path.name} contains NaN or infinite values")
    if not fps > 0:
        raise UserError(f"{path.name}: frame rate must be positive, got {fps}")
    if fps != MOTION_FPS and len(arkit) > 1:
        curves = FaceCurves(np.arange(len(arkit)) / fps, arkit.astype(np.float32),
                            np.zeros((len(arkit), 9), np.float32), fps)
        arkit = curves.resampled(MOTION_FPS).arkit
    return np.clip(arkit, 0.0, 1.0).astype(np.float32)


def matched_reference(arkit: np.ndarray, audio_seconds: float, name: str = "reference") -> np.ndarray:
    """Check the reference against its audio; → curves trimmed/padded to the audio's frame count (T, 52).

    Too short (< 2 s) or a length differing by more than 10 % from the audio is a UserError.
    """
    seconds = len(arkit) / MOTION_FPS
    if seconds < MIN_REFERENCE_SECONDS or audio_seconds < MIN_REFERENCE_SECONDS:
        raise UserError(f"{name} is too short ({min(seconds, audio_seconds):.1f} s): give at least "
                        f"{MIN_REFERENCE_SECONDS:g} s of speech with its face curves")
    if abs(seconds - audio_seconds) > MAX_LENGTH_MISMATCH * audio_seconds:
        raise UserError(f"{name} lasts {seconds:.1f} s but the audio {audio_seconds:.1f} s: they must be the same "
                        "take (within 10 %)")
    n = int(round(audio_seconds * MOTION_FPS))
    if len(arkit) >= n:
        return arkit[:n]
    return np.pad(arkit, ((0, n - len(arkit)), (0, 0)), mode="edge")


# ----------------------------------------------------------------------------------------------
# fitting

def _fit_loss(pred: torch.Tensor, target: torch.Tensor, velocity_weight: float) -> torch.Tensor:
    """pred, target (K, W, C) windows: reconstruction + weighted velocity error."""
    recon = torch.mean((pred - target) ** 2)
    vel = torch.mean(((pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])) ** 2)
    return recon + velocity_weight * vel


def fit_style(model: NeuralFaceModel, features: np.ndarray, mouth: np.ndarray,
              params: PersonalizeParams = PersonalizeParams(), check: Callable[[], None] = lambda: None
              ) -> tuple[FaceStyle, dict]:
    """features (T, n_mels), target mouth (T, 27) → (style, {'error_generic', 'error_embedding', 'error_basis'}).

    The errors are mean squared errors of the clamped prediction on the reference itself.
    """
    device = next(model.parameters()).device
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    target = torch.from_numpy(np.asarray(mouth, np.float32)).to(device)
    with torch.no_grad():
        visemes = model.visemes(torch.from_numpy(np.asarray(features, np.float32))[None].to(device))
    w0, b0 = model.basis.weight.detach(), model.basis.bias.detach()
    style = model.styles.weight[params.init_style].detach().clone().requires_grad_(True)
    d_w = torch.zeros_like(w0, requires_grad=True)
    d_b = torch.zeros_like(b0, requires_grad=True)

    n = visemes.shape[1]
    win = min(params.window, n)
    rng = np.random.default_rng(params.seed)

    def predict(v: torch.Tensor = visemes) -> torch.Tensor:
        return model.decode_motion(v, style[None].expand(len(v), -1), w0 + d_w, b0 + d_b)

    def batch_loss() -> torch.Tensor:
        starts = torch.from_numpy(rng.integers(0, n - win + 1, size=params.windows)).to(device)
        idx = starts[:, None] + torch.arange(win, device=device)[None]       # (K, W)
        pred = predict(visemes[0][idx])                                        # (K, W, C)
        return _fit_loss(pred, target[idx], params.velocity_weight)

    def error() -> float:
        with torch.no_grad():
            return float(torch.mean((predict()[0].clamp(0, 1) - target) ** 2))

    report = {"error_generic": error()}
    opt = torch.optim.Adam([style], lr=params.embedding_lr)
    for _ in range(params.embedding_steps):
        check()
        loss = batch_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    report["error_embedding"] = error()
    opt = torch.optim.Adam([{"params": [style], "lr": params.embedding_lr * 0.3},
                            {"params": [d_w, d_b], "lr": params.basis_lr}])
    for _ in range(params.basis_steps):
        check()
        loss = batch_loss() + params.basis_regularizer * (d_w.pow(2).sum() + d_b.pow(2).sum())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    report["error_basis"] = error()
    for p in model.parameters():
        p.requires_grad_(True)
    style_out = FaceStyle(style.detach().cpu(), d_w.detach().cpu(), d_b.detach().cpu(), {})
    return style_out, report


# ----------------------------------------------------------------------------------------------
# style files

def save_style(path: str | Path, style: FaceStyle, config: FaceModelConfig) -> Path:
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise UserError(f"output folder does not exist: {path.parent}")
    payload = {"format": STYLE_FORMAT, "version": STYLE_VERSION, "channels": list(SPEECH_CHANNELS),
               "d_model": config.d_model, "hidden": config.hidden,
               "embedding": style.embedding.float(), "basis_weight_delta": style.basis_weight_delta.float(),
               "basis_bias_delta": style.basis_bias_delta.float(), "meta": dict(style.meta)}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_style(path: str | Path, config: FaceModelConfig) -> FaceStyle:
    """Read a .orstyle file safely and check it fits the model; anything wrong is a one-line UserError."""
    path = Path(path)
    payload = read_tagged(path, STYLE_FORMAT, "face style file", "python -m backend personalize")
    if payload.get("version") != STYLE_VERSION or list(payload.get("channels", [])) != list(SPEECH_CHANNELS):
        raise UserError(f"{path.name} was made by a different version of Orator: personalise again")
    expected = {"embedding": (config.d_model,), "basis_weight_delta": (config.n_channels, config.hidden),
                "basis_bias_delta": (config.n_channels,)}
    for key, shape in expected.items():
        value = payload.get(key)
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            raise UserError(f"{path.name} does not fit this face model ({key} should be {shape}): "
                            "personalise again with the same checkpoint")
        if not torch.all(torch.isfinite(value)):
            raise UserError(f"{path.name} contains NaN or infinite values")
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    return FaceStyle(payload["embedding"].float(), payload["basis_weight_delta"].float(),
                     payload["basis_bias_delta"].float(), meta)


def personalize_from_files(audio_path: str | Path, reference_path: str | Path, out_path: str | Path,
                           checkpoint: str | Path | None = None, params: PersonalizeParams = PersonalizeParams(),
                           device: str = "cpu", log: Callable[[str], None] = lambda line: None
                           ) -> tuple[Path, dict]:
    """Audio + its face curves → a style file for `checkpoint` (default: the shipped one). → (path, report)."""
    from ...audio.io import load_audio
    from .model import SHIPPED_CHECKPOINT, load_checkpoint

    started = time.perf_counter()
    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise UserError(f"output folder does not exist: {out_path.parent}")
    arkit = read_reference_curves(reference_path)
    audio = load_audio(audio_path)
    arkit = matched_reference(arkit, audio.duration, Path(reference_path).name)
    checkpoint = Path(checkpoint) if checkpoint else SHIPPED_CHECKPOINT
    model, payload = load_checkpoint(checkpoint, device)
    features = motion_rate_log_mel(audio.samples, len(arkit), model.config.n_mels)
    log(f"fitting a style to {len(arkit) / MOTION_FPS:.1f} s of reference")
    style, report = fit_style(model, features, arkit[:, SPEECH_INDEX], params)
    report.update(reference_seconds=len(arkit) / MOTION_FPS, seconds=time.perf_counter() - started)
    meta = {"audio": Path(audio_path).name, "reference": Path(reference_path).name,
            "checkpoint": checkpoint.name, "reference_seconds": round(report["reference_seconds"], 3),
            "error_generic": report["error_generic"], "error_embedding": report["error_embedding"],
            "error_basis": report["error_basis"]}
    path = save_style(out_path, FaceStyle(style.embedding, style.basis_weight_delta, style.basis_bias_delta, meta),
                      model.config)
    return path, report
