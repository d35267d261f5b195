"""Masked audio-gesture transformer (EMAGE-style).

masked motion + mask → conv "body hints" → + periodic positional encoding + speaker embedding →
temporal self-attention → cross-attention decoder over audio features → per-part heads, each with a
latent regression (VQ latent size) and a code classifier (codebook size).
Audio: raw 16 kHz waveform → strided 1-D CNN (×320, 50 Hz) → linear resampling onto the motion frames,
plus optional rhythm features (amplitude envelope, onset impulses) added through a linear layer.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .config import NeuralBodyConfig

WAVE_STRIDES = (5, 4, 4, 4)     # 16 kHz / 320 = 50 Hz before resampling to the motion rate


class WaveEncoder(nn.Module):
    """(B, N) waveform (+ (B, T, 2) rhythm) → (B, T, audio_dim)."""

    def __init__(self, channels: int, out_dim: int, rhythm: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for k, s in enumerate(WAVE_STRIDES):
            c_out = channels * min(2 ** k, 4)
            layers += [nn.Conv1d(c_in, c_out, 2 * s, stride=s, padding=s // 2), nn.GroupNorm(1, c_out),
                       nn.LeakyReLU(0.2)]
            c_in = c_out
        layers += [nn.Conv1d(c_in, out_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)
        self.rhythm = nn.Linear(2, out_dim) if rhythm else None

    def forward(self, wave: torch.Tensor, n_frames: int, rhythm: torch.Tensor | None = None) -> torch.Tensor:
        h = self.net(wave.unsqueeze(1))                                   # (B, C, N / 320)
        h = F.interpolate(h, size=n_frames, mode="linear", align_corners=False).transpose(1, 2)
        if self.rhythm is not None and rhythm is not None:
            h = h + self.rhythm(rhythm)
        return h


def periodic_encoding(period: int, dim: int) -> torch.Tensor:
    """(period, dim) transformer sinusoids of positions 0..period−1; frame t uses row t mod period."""
    pos = torch.arange(period, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(period, dim)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return pe


class PartHead(nn.Module):
    def __init__(self, hidden: int, latent: int, codebook: int) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU())
        self.latent = nn.Linear(hidden, latent)
        self.logits = nn.Linear(hidden, codebook)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.trunk(h)
        return self.latent(t), self.logits(t)


class MaskedGestureTransformer(nn.Module):
    def __init__(self, cfg: NeuralBodyConfig, motion_dim: int) -> None:
        super().__init__()
        tc = cfg.transformer
        h = tc.hidden
        self.hints = nn.Sequential(nn.Conv1d(2 * motion_dim, h, 3, padding=1), nn.GELU(),
                                   nn.Conv1d(h, h, 3, padding=1))
        self.register_buffer("pe", periodic_encoding(tc.period, h), persistent=False)
        self.speaker = nn.Embedding(tc.speakers, h)
        self.self_attn = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(h, tc.heads, tc.ffn, tc.dropout, batch_first=True, norm_first=True),
            tc.self_layers, enable_nested_tensor=False)
        self.audio = WaveEncoder(tc.audio_channels, tc.audio_dim, tc.rhythm)
        self.audio_proj = nn.Linear(tc.audio_dim, h)
        self.no_audio = nn.Parameter(torch.zeros(h))
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(h, tc.heads, tc.ffn, tc.dropout, batch_first=True, norm_first=True),
            tc.decoder_layers)
        self.norm = nn.LayerNorm(h)
        self.heads = nn.ModuleDict({p: PartHead(h, cfg.vq.latent, cfg.vq.codebook) for p in cfg.parts})

    def positions(self, n_frames: int) -> torch.Tensor:
        return self.pe[torch.arange(n_frames, device=self.pe.device) % self.pe.shape[0]]

    def forward(self, motion: torch.Tensor, mask: torch.Tensor, audio: torch.Tensor | None,
                speaker: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """motion, mask (B, T, D) (mask 1 = channel given); audio (B, T, audio_dim) features or None
        (the no-audio pass); speaker (B,) → {part: (latent (B,T,L), logits (B,T,K))}."""
        b, t, _ = motion.shape
        x = torch.cat([motion * mask, mask], dim=-1).transpose(1, 2)
        pos = self.positions(t)
        hint = self.hints(x).transpose(1, 2) + pos + self.speaker(speaker)[:, None, :]
        hint = self.self_attn(hint)
        if audio is None:
            memory = self.no_audio.expand(b, t, -1) + pos
        else:
            memory = self.audio_proj(audio) + pos
        out = self.norm(self.decoder(hint, memory))
        return {p: head(out) for p, head in self.heads.items()}
