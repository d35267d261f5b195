"""Global motion: a conv net reads the lower-body pose + foot contacts and predicts the root's x/z
velocity and absolute height (EMAGE's separate, not quantised, global-motion model). Positions come from
integrating the velocities at dt = 1/fps (features.integrate_trans)."""
from __future__ import annotations

import torch
from torch import nn

from .vqvae import ResBlock

LOWER_ROT = slice(0, 54)        # channels of the lower part: 9 joints × rot6d
LOWER_TRANS = slice(54, 57)     # (vx, y, vz)
LOWER_CONTACTS = slice(57, 61)


class GlobalMotionNet(nn.Module):
    """(B, T, 58) normalised lower rot6d + contacts → (B, T, 3) normalised (vx, y, vz)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(58, hidden, 5, padding=2), ResBlock(hidden), ResBlock(hidden),
                                 nn.LeakyReLU(0.2), nn.Conv1d(hidden, 3, 3, padding=1))

    def forward(self, lower: torch.Tensor) -> torch.Tensor:
        """lower (B, T, 61) normalised lower-part features (its trans channels are not read)."""
        x = torch.cat([lower[..., LOWER_ROT], lower[..., LOWER_CONTACTS]], dim=-1)
        return self.net(x.transpose(1, 2)).transpose(1, 2)
