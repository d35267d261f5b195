"""Part VQ-VAEs: one token per frame, 1-D conv + residual blocks, straight-through quantiser.

Also the torch versions of rot6d → matrix and forward kinematics used by the joint-position loss.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ...vocabulary.skeleton import PARENTS, REST_OFFSETS
from .config import VQConfig


class ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(F.leaky_relu(x, 0.2)), 0.2))


class PartVQVAE(nn.Module):
    """Features (B, T, width) ↔ codes (B, T) of one body part; no temporal downsampling."""

    def __init__(self, width: int, cfg: VQConfig, depth: int) -> None:
        super().__init__()
        h = cfg.hidden
        self.beta = cfg.beta
        self.encoder = nn.Sequential(nn.Conv1d(width, h, 3, padding=1), *[ResBlock(h) for _ in range(depth)],
                                     nn.LeakyReLU(0.2), nn.Conv1d(h, cfg.latent, 1))
        self.decoder = nn.Sequential(nn.Conv1d(cfg.latent, h, 3, padding=1), *[ResBlock(h) for _ in range(depth)],
                                     nn.LeakyReLU(0.2), nn.Conv1d(h, width, 3, padding=1))
        self.codebook = nn.Embedding(cfg.codebook, cfg.latent)
        nn.init.uniform_(self.codebook.weight, -1.0 / cfg.codebook, 1.0 / cfg.codebook)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, width) → (B, T, latent) unit vectors (l2-normalised codes keep the quantiser stable)"""
        return F.normalize(self.encoder(x.transpose(1, 2)).transpose(1, 2), dim=-1)

    def codes(self) -> torch.Tensor:
        """(K, latent) unit code vectors"""
        return F.normalize(self.codebook.weight, dim=-1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T, latent) → (B, T, width)"""
        return self.decoder(z.transpose(1, 2)).transpose(1, 2)

    def nearest_codes(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T, latent) → (B, T) int64 index of the nearest code (squared L2)."""
        return (z @ self.codes().t()).argmax(-1)  # unit vectors: nearest = largest dot product

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Straight-through quantiser. z (B,T,L) → (z_q with z's gradient, codes (B,T), loss scalar)
        where loss = ‖sg(z) − e‖² + β‖z − sg(e)‖²."""
        idx = self.nearest_codes(z)
        e = self.codes()[idx]
        loss = F.mse_loss(e, z.detach()) + self.beta * F.mse_loss(z, e.detach())
        return z + (e - z).detach(), idx, loss

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B,T,width) → (reconstruction, codes (B,T), vq loss, encoder latent (B,T,L))"""
        z = self.encode(x)
        zq, idx, loss = self.quantize(z)
        return self.decode(zq), idx, loss, z

    def decode_codes(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T) codes → (B, T, width)"""
        return self.decode(self.codes()[idx])

    @torch.no_grad()
    def restart_unused_codes(self, used: torch.Tensor, z: torch.Tensor, generator: torch.Generator) -> int:
        """Move codes never chosen since the last call onto random encoder outputs (keeps the codebook alive).

        used (K,) bool; z (N, L) recent encoder latents. Returns how many codes moved.
        """
        dead = torch.nonzero(~used).flatten()
        if len(dead) == 0 or len(z) == 0:
            return 0
        pick = torch.randint(0, len(z), (len(dead),), generator=generator, device="cpu").to(z.device)
        self.codebook.weight[dead] = z[pick] + 1e-3 * torch.randn(z[pick].shape, generator=generator).to(z.device)
        return int(len(dead))


def rot6d_to_matrix_t(r6: torch.Tensor) -> torch.Tensor:
    """(..., 6) → (..., 3, 3); the 6 numbers are the first two columns (same as motion.rotations)."""
    a1, a2 = r6[..., :3], r6[..., 3:]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-1)


def _depth_levels() -> list[tuple[list[int], list[int]]]:
    """Joints grouped by depth in the tree (root excluded): [(joints, their parents)], parents first."""
    depth = [0] * len(PARENTS)
    for i, p in enumerate(PARENTS):
        depth[i] = 0 if p < 0 else depth[p] + 1
    return [([i for i in range(len(PARENTS)) if depth[i] == d], [PARENTS[i] for i in range(len(PARENTS)) if depth[i] == d])
            for d in range(1, max(depth) + 1)]


_LEVELS = _depth_levels()


def fk_positions_t(local: torch.Tensor) -> torch.Tensor:
    """Joint positions relative to the pelvis for local rotations (..., 55, 3, 3) → (..., 55, 3).
    One batched step per tree depth (15 instead of 55 sequential products)."""
    offsets = torch.tensor(REST_OFFSETS, dtype=local.dtype, device=local.device)
    rot = [None] * len(PARENTS)
    pos = [None] * len(PARENTS)
    rot[0], pos[0] = local[..., 0, :, :], torch.zeros_like(local[..., 0, :, 0])
    for joints, parents in _LEVELS:
        prot = torch.stack([rot[p] for p in parents], dim=-3)
        ppos = torch.stack([pos[p] for p in parents], dim=-2)
        grot = prot @ local[..., joints, :, :]
        gpos = ppos + (prot @ offsets[joints].unsqueeze(-1)).squeeze(-1)
        for k, j in enumerate(joints):
            rot[j], pos[j] = grot[..., k, :, :], gpos[..., k, :]
    return torch.stack(pos, dim=-2)
