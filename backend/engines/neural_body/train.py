"""Training: stage 1 the part VQ-VAEs + global motion net, stage 2 the masked gesture transformer on the
frozen VQ codes with EMAGE's three passes per step:
  (1) everything masked but the seed frames, with audio;
  (2) a random Bernoulli mask per (frame, part) whose masked share rises 0.05 → 1.0, with audio;
  (3) the same mask without audio.
Loss per pass: MSE from the regressed latent to the VQ code vector + NLL of the code classifier.
Resumable: the checkpoint holds the stage, step and optimizer state; each step's batch and dropout are
seeded by (seed, stage, step), so a resumed run continues exactly as an uninterrupted one would.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from ...vocabulary.skeleton import NUM_JOINTS
from .config import NeuralBodyConfig
from .windows import WindowSet
from .global_motion import LOWER_TRANS
from .model import NeuralBodyModel, model_from_payload, read_checkpoint, save_checkpoint
from .vqvae import fk_positions_t, rot6d_to_matrix_t

ProgressLine = Callable[[str], None]
STAGES = ("vq", "transformer", "done")


@dataclass(frozen=True)
class TrainSchedule:
    vq_steps: int = 1500
    transformer_steps: int = 2500
    batch: int = 32
    vq_lr: float = 1e-3
    transformer_lr: float = 5e-4
    warmup: int = 100
    velocity_weight: float = 1.0
    acceleration_weight: float = 1.0
    joint_weight: float = 10.0      # FK joint positions (metres) relative to the pelvis
    restart_every: int = 200        # dead-code restart period (VQ stage)
    seed: int = 0
    log_every: int = 50
    save_every: int = 500


def _step_rng(seed: int, stage: str, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, STAGES.index(stage), step])


def _lr(base: float, step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10 %."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(total - warmup, 1)
    return float(base * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(p, 1.0)))))  # a numpy scalar would not load


def part_joint_positions(model: NeuralBodyModel, part: str, x_norm: torch.Tensor) -> torch.Tensor:
    """Positions (B, T, 55, 3) relative to the pelvis of a part's joints posed, all others at rest.
    x_norm (B, T, width) normalised features of that part."""
    from .features import PART_JOINTS

    joints = list(PART_JOINTS[part])
    sl = model.slices[part]
    raw = x_norm * model.std[sl] + model.mean[sl]
    r6 = raw[..., :6 * len(joints)].reshape(*raw.shape[:2], len(joints), 6)
    local = torch.eye(3, device=raw.device).expand(*raw.shape[:2], NUM_JOINTS, 3, 3).clone()
    local[..., joints, :, :] = rot6d_to_matrix_t(r6)
    return fk_positions_t(local)


def vq_losses(model: NeuralBodyModel, x: torch.Tensor, sched: TrainSchedule
              ) -> tuple[torch.Tensor, dict[str, float], dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """x (B, T, D) normalised motion → (total loss, scalars for the log, {part: (codes, latents)})."""
    total = torch.zeros((), device=x.device)
    logs: dict[str, float] = {}
    codes = {}
    for p, vq in model.vq.items():
        xp = model.part(x, p)
        recon, idx, vq_loss, z = vq(xp)
        rec = F.mse_loss(recon, xp)
        vel = F.mse_loss(recon.diff(dim=1), xp.diff(dim=1))
        acc = F.mse_loss(recon.diff(n=2, dim=1), xp.diff(n=2, dim=1))
        loss = rec + sched.velocity_weight * vel + sched.acceleration_weight * acc + vq_loss
        if p != "face":
            loss = loss + sched.joint_weight * F.mse_loss(part_joint_positions(model, p, recon),
                                                          part_joint_positions(model, p, xp))
        total = total + loss
        logs[p] = float(rec.detach())
        logs[p + "_vq"] = float(vq_loss.detach())
        codes[p] = (idx, z.detach())
    if model.global_motion is not None:
        lower = model.part(x, "lower")
        pred = model.global_motion(lower)
        target = lower[..., LOWER_TRANS]
        sl = model.slices["lower"]
        std, mean = model.std[sl][LOWER_TRANS], model.mean[sl][LOWER_TRANS]
        # integrated x/z path over the window (metres), so small velocity biases do not drift
        path = lambda v: torch.cumsum((v * std + mean)[..., [0, 2]], dim=1) / model.cfg.fps  # noqa: E731
        g = F.mse_loss(pred, target) + 10.0 * F.mse_loss(path(pred), path(target))
        total = total + g
        logs["global"] = float(g.detach())
    return total, logs, codes


def training_masks(batch: int, n_frames: int, model: NeuralBodyModel, seed_frames: int, masked_share: float,
                   rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(seed-only mask, random mask), each (B, T, D) float32 with 1 = channel given to the model.

    The random mask hides each (frame, part) with probability masked_share.
    """
    seed_mask = torch.zeros(batch, n_frames, model.motion_dim)
    seed_mask[:, :seed_frames] = 1.0
    rand = torch.zeros(batch, n_frames, model.motion_dim)
    given = rng.random((batch, n_frames, len(model.cfg.parts))) >= masked_share
    for k, p in enumerate(model.cfg.parts):
        rand[..., model.slices[p]] = torch.from_numpy(given[..., k].astype(np.float32))[..., None]
    return seed_mask, rand


def transformer_losses(model: NeuralBodyModel, x: torch.Tensor, wave: torch.Tensor, rhythm: torch.Tensor,
                       speaker: torch.Tensor, masked_share: float, rng: np.random.Generator
                       ) -> tuple[torch.Tensor, dict[str, float]]:
    """The three passes on one batch. x (B,T,D) normalised; wave (B,N); rhythm (B,T,2); speaker (B,)."""
    b, t, _ = x.shape
    with torch.no_grad():
        targets = {}
        for p, vq in model.vq.items():
            idx = vq.nearest_codes(vq.encode(model.part(x, p)))
            targets[p] = (idx, vq.codes()[idx])
    seed_mask, rand_mask = training_masks(b, t, model, model.cfg.seed_frames, masked_share, rng)
    seed_mask, rand_mask = seed_mask.to(x.device), rand_mask.to(x.device)
    audio = model.transformer.audio(wave, t, rhythm)
    total = torch.zeros((), device=x.device)
    logs = {}
    for name, mask, a in (("seed", seed_mask, audio), ("mask", rand_mask, audio), ("noaudio", rand_mask, None)):
        out = model.transformer(x, mask, a, speaker)
        loss = torch.zeros((), device=x.device)
        for p, (latent, logits) in out.items():
            idx, e = targets[p]
            loss = loss + F.mse_loss(latent, e) + F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                                  idx.reshape(-1))
        total = total + loss
        logs[name] = float(loss.detach())
    return total, logs


def _fmt_s(s: float) -> str:
    s = int(max(s, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def train_body(windows: WindowSet, out: str | Path, cfg: NeuralBodyConfig, sched: TrainSchedule = TrainSchedule(),
               resume: bool = False, device: str = "cpu", log: ProgressLine = print, meta: dict | None = None
               ) -> Path:
    """Train (or resume training of) a body model on `windows`; write the checkpoint to `out`.

    The final file keeps the optimizer state so training can be resumed with more steps; `strip_for_shipping`
    removes it.
    """
    out = Path(out)
    meta = dict(meta or {})
    stage, step, opt_state = "vq", 0, None
    if resume and out.is_file():
        payload = read_checkpoint(out)
        model = model_from_payload(payload, device)
        cfg = model.cfg
        train_state = payload.get("train", {})
        stage, step, opt_state = train_state.get("stage", "done"), int(train_state.get("step", 0)), \
            train_state.get("optimizer")
        meta = {**payload.get("meta", {}), **meta}
        log(f"resuming {out.name} at stage {stage}, step {step}")
        if stage == "done" and int(meta.get("transformer_steps_done", 0)) < sched.transformer_steps:
            stage, step = "transformer", int(meta["transformer_steps_done"])  # asked for more steps
            log(f"continuing the transformer from step {step} to {sched.transformer_steps}")
    else:
        # an untrained speaker embedding is noise added to every frame: default to one the data has
        speaker = int(np.bincount(windows.speaker).argmax()) if len(windows.speaker) else 0
        cfg = replace(cfg, transformer=replace(cfg.transformer, default_speaker=speaker))
        meta["speakers"] = sorted({int(v) for v in windows.speaker})
        torch.manual_seed(sched.seed)  # the initial weights, too, come from the schedule's seed
        model = NeuralBodyModel(cfg).to(device)
        flat = torch.from_numpy(windows.motion.reshape(-1, windows.motion.shape[-1]))
        model.set_stats(flat.mean(0).to(device), flat.std(0).to(device))
    meta.setdefault("elapsed_s", 0.0)
    meta["schedule"] = asdict(sched)
    meta["windows"] = int(len(windows.motion))
    if windows.motion.shape[-1] != model.motion_dim:
        raise ValueError("training windows were built for another configuration")

    motion = torch.from_numpy(windows.motion)
    rhythm = torch.from_numpy(windows.rhythm)
    audio = torch.from_numpy(windows.audio)
    speaker = torch.from_numpy(windows.speaker)
    n_windows = len(motion)
    totals = {"vq": sched.vq_steps, "transformer": sched.transformer_steps}
    started = time.perf_counter()
    done_at_start = (step if stage == "vq" else totals["vq"] + step if stage == "transformer"
                     else sum(totals.values()))

    def save(stage_: str, step_: int, opt) -> None:
        meta["elapsed_s"] = float(meta["elapsed_s"]) + time.perf_counter() - save.mark
        save.mark = time.perf_counter()
        meta["vq_steps_done"] = totals["vq"] if stage_ != "vq" else step_
        meta["transformer_steps_done"] = (totals["transformer"] if stage_ == "done"
                                          else step_ if stage_ == "transformer" else 0)
        save_checkpoint(out, model, meta, {"stage": stage_, "step": step_,
                                           "optimizer": opt.state_dict() if opt is not None else {}})
    save.mark = time.perf_counter()

    while stage != "done":
        n_steps = totals[stage]
        if stage == "vq":
            params = list(model.vq.parameters()) + (list(model.global_motion.parameters())
                                                     if model.global_motion is not None else [])
            base_lr = sched.vq_lr
        else:
            params = list(model.transformer.parameters())
            base_lr = sched.transformer_lr
        opt = torch.optim.AdamW(params, lr=base_lr, weight_decay=1e-4)
        if opt_state:
            opt.load_state_dict(opt_state)
            opt_state = None
        used = {p: torch.zeros(cfg.vq.codebook, dtype=torch.bool) for p in cfg.parts}
        recent_z: dict[str, list[torch.Tensor]] = {p: [] for p in cfg.parts}
        model.train()
        model.vq.requires_grad_(stage == "vq")
        if stage == "transformer":
            model.vq.eval()
            if model.global_motion is not None:
                model.global_motion.eval()
        while step < n_steps:
            rng = _step_rng(sched.seed, stage, step)
            torch.manual_seed(int(rng.integers(2**31)))
            pick = torch.from_numpy(rng.integers(0, n_windows, sched.batch))
            x = model.normalize(motion[pick].to(device))
            for group in opt.param_groups:
                group["lr"] = _lr(base_lr, step, n_steps, sched.warmup)
            if stage == "vq":
                loss, logs, codes = vq_losses(model, x, sched)
                for p, (idx, z) in codes.items():
                    used[p][idx.reshape(-1).cpu()] = True
                    recent_z[p] = (recent_z[p] + [z.reshape(-1, z.shape[-1])])[-4:]
            else:
                share = 0.05 + 0.95 * step / max(n_steps - 1, 1)
                loss, logs = transformer_losses(model, x, audio[pick].to(device), rhythm[pick].to(device),
                                                speaker[pick].to(device), share, rng)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            # codes start on encoder outputs (step 1), then unused ones move onto recent outputs
            if stage == "vq" and (step == 1 or step % sched.restart_every == 0) and step < n_steps * 0.8:
                g = torch.Generator().manual_seed(int(rng.integers(2**31)))
                for p, vq in model.vq.items():
                    if step == 1:
                        used[p][:] = False
                    vq.restart_unused_codes(used[p].to(device), torch.cat(recent_z[p]), g)
                    used[p][:] = False
            if step % sched.log_every == 0 or step == n_steps:
                done = (step if stage == "vq" else totals["vq"] + step) - done_at_start
                elapsed = time.perf_counter() - started
                remaining = sum(totals.values()) - done_at_start - done
                eta = elapsed / max(done, 1) * remaining
                parts = " ".join(f"{k} {v:.4f}" for k, v in logs.items())
                log(f"{stage} {step}/{n_steps} loss {float(loss.detach()):.4f} ({parts}) "
                    f"elapsed {_fmt_s(elapsed)} ETA {_fmt_s(eta)}")
            if step % sched.save_every == 0 and step < n_steps:
                save(stage, step, opt)
        stage = STAGES[STAGES.index(stage) + 1]
        if stage == "done":  # keeps the transformer optimizer, so more steps can follow
            save(stage, n_steps, opt)
        else:
            step = 0
            save(stage, step, None)  # a new stage starts with a fresh optimizer
    model.eval()
    return out


def strip_for_shipping(src: str | Path, dst: str | Path) -> Path:
    """Copy a finished checkpoint without optimizer state (config + weights + meta only)."""
    payload = read_checkpoint(src)
    model = model_from_payload(payload)
    return save_checkpoint(dst, model, payload.get("meta", {}))
