"""Training the generic neural face: random windows, teacher-forced (the decoder's input is the audio),
reconstruction + velocity + lip-contact losses, resumable, deterministic for a seed."""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .channels import speech_aperture
from .data import TrainingClip
from .model import FaceModelConfig, NeuralFaceModel, save_checkpoint

ProgressLine = Callable[[str], None]


@dataclass(frozen=True)
class TrainParams:
    steps: int = 3000
    batch: int = 16
    window: int = 150              # frames per training window (5 s)
    lr: float = 2e-3
    warmup: int = 100
    weight_decay: float = 1e-2
    velocity_weight: float = 10.0
    lip_weight: float = 5.0
    seed: int = 0
    log_every: int = 100
    save_every: int = 500
    feature_noise: float = 0.0     # std of Gaussian noise on the normalised log-mel (augmentation)


def face_losses(pred: torch.Tensor, target: torch.Tensor, lip_weight: torch.Tensor,
                velocity_weight: float = 10.0, lip_contact_weight: float = 5.0) -> dict[str, torch.Tensor]:
    """pred, target (B, T, 27); lip_weight (B, T) → {'recon', 'velocity', 'lip', 'total'} scalars.

    lip: Gaussian-weighted squared lip aperture (jawOpen − mouthClose) around p/b/m closures.
    """
    recon = torch.mean((pred - target) ** 2)
    velocity = torch.mean(((pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])) ** 2)
    w = lip_weight
    lip = torch.sum(w * speech_aperture(pred) ** 2) / torch.clamp(w.sum(), min=1.0)
    total = recon + velocity_weight * velocity + lip_contact_weight * lip
    return {"recon": recon, "velocity": velocity, "lip": lip, "total": total}


def sample_windows(clips: list[TrainingClip], rng: np.random.Generator, batch: int, window: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random windows: each item picks a style uniformly, then a clip of it by length, then a start.

    → features (B, W, M), mouth (B, W, C), lip weights (B, W), style ids (B,). Clips shorter than W
    are edge-padded (features, mouth) with zero lip weight.
    """
    styles = sorted({c.style for c in clips})
    feats, mouths, lips, ids = [], [], [], []
    for _ in range(batch):
        style = styles[rng.integers(len(styles))]
        pool = [c for c in clips if c.style == style]
        lengths = np.array([c.n_frames for c in pool], np.float64)
        clip = pool[rng.choice(len(pool), p=lengths / lengths.sum())]
        start = int(rng.integers(0, max(1, clip.n_frames - window + 1)))
        sl = slice(start, start + window)
        f, m, w = clip.features[sl], clip.mouth[sl], clip.lip_weight[sl]
        short = window - len(m)
        if short:
            f = np.pad(f, ((0, short), (0, 0)), mode="edge")
            m = np.pad(m, ((0, short), (0, 0)), mode="edge")
            w = np.pad(w, (0, short))
        feats.append(f); mouths.append(m); lips.append(w); ids.append(style)
    return np.stack(feats), np.stack(mouths), np.stack(lips), np.array(ids)


def learning_rate(step: int, params: TrainParams) -> float:
    """Linear warm-up, then cosine decay to 5 % of the peak."""
    if step < params.warmup:
        return params.lr * (step + 1) / params.warmup
    t = (step - params.warmup) / max(1, params.steps - params.warmup)
    return params.lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0))))


@torch.no_grad()
def clip_errors(model: NeuralFaceModel, clips: list[TrainingClip], device: str = "cpu") -> dict[str, float]:
    """Mean squared error per clip of the model's mouth (clamped 0..1) against the clip's own style targets."""
    model.eval()
    out = {}
    for c in clips:
        x = torch.from_numpy(c.features)[None].to(device)
        pred = model(x, torch.tensor([c.style], device=device))[0].clamp(0, 1).cpu().numpy()
        out[c.name] = float(np.mean((pred - c.mouth) ** 2))
    return out


def resume_path(out: str | Path) -> Path:
    return Path(str(out) + ".resume")


def train_face(clips: list[TrainingClip], out: str | Path, style_names: list[str],
               params: TrainParams = TrainParams(), config: FaceModelConfig = FaceModelConfig(),
               resume: bool = False, device: str = "cpu", log: ProgressLine | None = None,
               meta: dict | None = None, check: Callable[[], None] = lambda: None,
               val_clips: list[TrainingClip] | None = None) -> NeuralFaceModel:
    """Train (or continue training) and write `out` (model + config) and `out.resume` (optimizer, step).

    Batches come from np.random.default_rng([seed, step]), so a resumed run draws what an
    uninterrupted one would have.
    """
    log = log or (lambda line: None)
    config = FaceModelConfig.from_dict({**asdict(config), "n_styles": len(style_names)})
    torch.manual_seed(params.seed)
    model = NeuralFaceModel(config).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    step = 0
    state_file = resume_path(out)
    if resume:
        if not state_file.is_file():
            from ...errors import UserError
            raise UserError(f"nothing to resume: {state_file} not found (run without --resume first)")
        state = torch.load(state_file, map_location=device, weights_only=True)
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
        log(f"resuming at step {step}/{params.steps}")
    meta = dict(meta or {})
    meta.update(train_params=asdict(params), clips=[c.name for c in clips])

    def save(final: bool) -> None:
        save_checkpoint(out, model, style_names, {**meta, "steps_done": step, "final": final})
        tmp = state_file.with_name(state_file.name + ".tmp")
        torch.save({"step": step, "state_dict": model.state_dict(), "optimizer": opt.state_dict()}, tmp)
        tmp.replace(state_file)

    started, start_step = time.perf_counter(), step
    running: dict[str, float] = {}
    model.train()
    while step < params.steps:
        check()
        rng = np.random.default_rng([params.seed, step])
        torch.manual_seed(params.seed * 1_000_003 + step)  # dropout draws depend on the step only (resumable)
        f, m, w, s = (torch.from_numpy(a).to(device) for a in sample_windows(clips, rng, params.batch, params.window))
        if params.feature_noise:
            noise = rng.standard_normal(f.shape, dtype=np.float32) * params.feature_noise
            f = f + torch.from_numpy(noise).to(device)
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, params)
        losses = face_losses(model(f, s), m, w, params.velocity_weight, params.lip_weight)
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        for k, v in losses.items():
            running[k] = running.get(k, 0.0) + float(v.detach())
        if step % params.log_every == 0 or step == params.steps:
            n = params.log_every if step % params.log_every == 0 else step % params.log_every
            elapsed = time.perf_counter() - started
            eta = elapsed / (step - start_step) * (params.steps - step)
            log(f"step {step}/{params.steps}  loss {running['total'] / n:.5f}  recon {running['recon'] / n:.5f}  "
                f"vel {running['velocity'] / n:.6f}  lip {running['lip'] / n:.5f}  "
                f"{elapsed:.0f} s, ETA {int(eta // 60)}:{int(eta % 60):02d}")
            running = {}
            if val_clips:
                errors = clip_errors(model, val_clips, device)
                meta["validation_mse"] = errors
                log("  held-out mse: " + "  ".join(f"{k} {v:.5f}" for k, v in errors.items()))
                model.train()
        if step % params.save_every == 0 and step < params.steps:
            save(False)
            model.train()
    meta["train_seconds"] = round(meta.get("train_seconds", 0.0) + time.perf_counter() - started, 1)
    save(True)
    return model.eval()
