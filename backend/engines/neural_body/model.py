"""The whole body generator as one module (part VQ-VAEs, global motion, transformer, feature statistics)
and its self-describing checkpoint: {'format', 'version', 'config', 'model' (state_dict), 'meta',
optionally 'train' (stage, step, optimizer) for resuming}. Loaded with torch.load(weights_only=True)."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ...errors import UserError
from ..torch_files import build_fitting, read_tagged
from .config import PART_WIDTHS, NeuralBodyConfig
from .global_motion import GlobalMotionNet
from .transformer import MaskedGestureTransformer
from .vqvae import PartVQVAE

CHECKPOINT_FORMAT = "orator.neural_body"
CHECKPOINT_VERSION = 1
STD_FLOOR = 0.05  # channels that barely move are not blown up by normalisation


def part_slices(cfg: NeuralBodyConfig) -> dict[str, slice]:
    """Where each part's channels sit in the concatenated motion vector."""
    out, a = {}, 0
    for p in cfg.parts:
        out[p] = slice(a, a + PART_WIDTHS[p])
        a += PART_WIDTHS[p]
    return out


class NeuralBodyModel(nn.Module):
    def __init__(self, cfg: NeuralBodyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.slices = part_slices(cfg)
        self.motion_dim = sum(PART_WIDTHS[p] for p in cfg.parts)
        self.register_buffer("mean", torch.zeros(self.motion_dim))
        self.register_buffer("std", torch.ones(self.motion_dim))
        self.vq = nn.ModuleDict({p: PartVQVAE(PART_WIDTHS[p], cfg.vq,
                                              cfg.vq.lower_depth if p == "lower" else cfg.vq.depth)
                                 for p in cfg.parts})
        self.global_motion = GlobalMotionNet(cfg.global_hidden) if "lower" in cfg.parts else None
        self.transformer = MaskedGestureTransformer(cfg, self.motion_dim)

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(torch.clamp(std, min=STD_FLOOR))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean

    def part(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return x[..., self.slices[name]]


def save_checkpoint(path: str | Path, model: NeuralBodyModel, meta: dict, train: dict | None = None) -> Path:
    """Write atomically (temp file + rename) so an interrupted save never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": model.cfg.to_dict(),
               "model": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "meta": dict(meta)}
    if train is not None:
        payload["train"] = train
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path: str | Path) -> dict:
    """The raw payload (CPU tensors); UserError for anything that is not a body checkpoint."""
    path = Path(path)
    payload = read_tagged(path, CHECKPOINT_FORMAT, "body checkpoint", "python -m backend train-body")
    if int(payload.get("version", 0)) > CHECKPOINT_VERSION:
        raise UserError(f"{path.name} was written by a newer Orator (format version {payload['version']})")
    return payload


def model_from_payload(payload: dict, device: str = "cpu", name: str = "the body checkpoint") -> NeuralBodyModel:
    config = NeuralBodyConfig.from_dict(payload["config"])
    model = build_fitting(lambda: NeuralBodyModel(config), payload.get("model"), name, "body checkpoint",
                          "python -m backend train-body")
    model.load_state_dict(payload["model"])
    return model.to(device).eval()


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[NeuralBodyModel, dict]:
    """→ (model in eval mode on `device`, payload)."""
    payload = read_checkpoint(path)
    return model_from_payload(payload, device, Path(path).name), payload
