"""Imitator-style audio → ARKit mouth model (PyTorch), and its self-describing checkpoint.

    log-mel (B,T,M) ─conv audio encoder (±lookahead)─► (B,T,D) ─causal windowed self-attention (1 layer)─►
    viseme features v (B,T,D), style-agnostic ─► v + style embedding s (D) ─MLP─► h (B,T,H)
    ─linear deformation basis (W (C,H), b (C,))─► mouth channels (B,T,C)

The decoder sees only the past (a window of `attention_window` frames) of the audio tokens, so long
audio runs in chunks with the same result as one pass. The basis bias b is the neutral mouth (the
template); personalisation moves s, then refines W and b. Positions enter only through the attention's
learned lag bias (no absolute positions), so the model is shift-invariant.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ...models import FACE_MODEL, shipped_model
from .channels import SPEECH_CHANNELS

SHIPPED_CHECKPOINT = shipped_model(FACE_MODEL)   # the generic model (personalize.py fits styles to it)

CHECKPOINT_FORMAT = "orator-neural-face"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class FaceModelConfig:
    n_mels: int = 80
    d_model: int = 64            # viseme feature and style embedding size
    n_heads: int = 4
    ff_dim: int = 128
    encoder_channels: int = 128
    encoder_kernel: int = 7      # frames; two layers → ±6 frames (200 ms) of lookahead for anticipation
    attention_window: int = 60   # frames of the past each frame attends to (2 s)
    n_styles: int = 2
    hidden: int = 128
    decoder_layers: int = 4      # MLP layers before the basis
    dropout: float = 0.0         # training only; 0.2 raised held-out LJSpeech error 0.0033 → 0.0039
    n_channels: int = len(SPEECH_CHANNELS)

    @classmethod
    def from_dict(cls, values: dict) -> "FaceModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


class WindowedCausalAttention(nn.Module):
    """Multi-head self-attention where frame i sees frames i-W+1 … i, with a learned bias per head and lag."""

    def __init__(self, d_model: int, n_heads: int, window: int) -> None:
        super().__init__()
        self.n_heads, self.window = n_heads, window
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.lag_bias = nn.Parameter(torch.zeros(n_heads, window))

    def forward(self, x: torch.Tensor, past: int = 0) -> torch.Tensor:
        """x (B, P+Q, D) with the first `past` frames as context only → (B, Q, D) for the last Q frames."""
        b, n, d = x.shape
        h = self.n_heads
        q, k, v = self.qkv(x).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q = q[:, :, past:]
        qi = torch.arange(past, n, device=x.device)[:, None]
        kj = torch.arange(n, device=x.device)[None, :]
        lag = qi - kj
        allowed = (lag >= 0) & (lag < self.window)
        bias = self.lag_bias[:, lag.clamp(0, self.window - 1)]          # (H, Q, N)
        bias = bias.masked_fill(~allowed, float("-inf"))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.unsqueeze(0).to(q.dtype))
        return self.out(y.transpose(1, 2).reshape(b, n - past, d))


class NeuralFaceModel(nn.Module):
    def __init__(self, config: FaceModelConfig) -> None:
        super().__init__()
        c = self.config = config
        pad = c.encoder_kernel // 2
        self.encoder = nn.Sequential(
            nn.Dropout(c.dropout),
            nn.Conv1d(c.n_mels, c.encoder_channels, c.encoder_kernel, padding=pad), nn.GELU(), nn.Dropout(c.dropout),
            nn.Conv1d(c.encoder_channels, c.encoder_channels, c.encoder_kernel, padding=pad), nn.GELU(),
            nn.Dropout(c.dropout))
        self.audio_proj = nn.Linear(c.encoder_channels, c.d_model)
        self.norm1 = nn.LayerNorm(c.d_model)
        self.attention = WindowedCausalAttention(c.d_model, c.n_heads, c.attention_window)
        self.norm2 = nn.LayerNorm(c.d_model)
        self.ff = nn.Sequential(nn.Linear(c.d_model, c.ff_dim), nn.GELU(), nn.Dropout(c.dropout),
                                nn.Linear(c.ff_dim, c.d_model))
        self.styles = nn.Embedding(c.n_styles, c.d_model)
        nn.init.normal_(self.styles.weight, std=0.1)
        layers: list[nn.Module] = []
        width = c.d_model
        for _ in range(c.decoder_layers):
            layers += [nn.Linear(width, c.hidden), nn.GELU(), nn.Dropout(c.dropout)]
            width = c.hidden
        self.motion_decoder = nn.Sequential(*layers)
        self.basis = nn.Linear(c.hidden, c.n_channels)

    # -- style-agnostic part --
    def audio_tokens(self, features: torch.Tensor) -> torch.Tensor:
        """features (B, T, n_mels) → (B, T, d_model)."""
        return self.audio_proj(self.encoder(features.transpose(1, 2)).transpose(1, 2))

    def decode_visemes(self, tokens: torch.Tensor, past: int = 0) -> torch.Tensor:
        """Audio tokens (B, P+Q, D) → viseme features (B, Q, D) of the last Q frames (pre-norm block)."""
        x = tokens[:, past:] + self.attention(self.norm1(tokens), past)
        return x + self.ff(self.norm2(x))

    def visemes(self, features: torch.Tensor, chunk: int = 600) -> torch.Tensor:
        """features (B, T, n_mels) → viseme features (B, T, D); chunked, same result as one pass."""
        tokens = self.audio_tokens(features)
        t = tokens.shape[1]
        if t <= chunk:
            return self.decode_visemes(tokens)
        ctx = self.config.attention_window - 1
        parts = []
        for s in range(0, t, chunk):
            a = max(0, s - ctx)
            parts.append(self.decode_visemes(tokens[:, a:s + chunk], past=s - a))
        return torch.cat(parts, dim=1)

    # -- style-specific part --
    def decode_motion(self, visemes: torch.Tensor, style: torch.Tensor,
                      basis_weight: torch.Tensor | None = None, basis_bias: torch.Tensor | None = None
                      ) -> torch.Tensor:
        """visemes (B, T, D) + style vectors (B, D) → mouth channels (B, T, C) (not clamped).

        basis_weight (C, H) / basis_bias (C,) replace the generic basis (personalised styles).
        """
        h = self.motion_decoder(visemes + style[:, None, :])
        w = self.basis.weight if basis_weight is None else basis_weight
        b = self.basis.bias if basis_bias is None else basis_bias
        return F.linear(h, w, b)

    def forward(self, features: torch.Tensor, style_ids: torch.Tensor) -> torch.Tensor:
        """features (B, T, n_mels), style_ids (B,) → mouth channels (B, T, C)."""
        return self.decode_motion(self.visemes(features), self.styles(style_ids))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_checkpoint(path: str | Path, model: NeuralFaceModel, style_names: list[str], meta: dict) -> Path:
    """Weights + everything needed to rebuild the model (config, channel names, style names, metadata)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": asdict(model.config),
        "channels": list(SPEECH_CHANNELS),
        "style_names": list(style_names),
        "meta": meta,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[NeuralFaceModel, dict]:
    """Rebuild the model from a checkpoint (never unpickles code: weights_only=True). → (model in eval mode, payload)."""
    from ...errors import UserError
    from ..torch_files import build_fitting, read_tagged

    path = Path(path)
    payload = read_tagged(path, CHECKPOINT_FORMAT, "face checkpoint", "python -m backend train-face", device)
    if list(payload.get("channels", [])) != list(SPEECH_CHANNELS):
        raise UserError(f"{path.name} drives different ARKit channels than this version of Orator")
    config = FaceModelConfig.from_dict(payload["config"])
    model = build_fitting(lambda: NeuralFaceModel(config), payload.get("state_dict"), path.name,
                          "face checkpoint", "python -m backend train-face")
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise UserError(f"{path.name}: weights do not fit the model config ({str(exc).splitlines()[0]})") from None
    return model.to(device).eval(), payload

