"""Which torch device a neural engine runs on: the one place the --device rule lives."""
from __future__ import annotations

import torch

from ..errors import UserError


def resolve_device(device: str) -> str:
    """'auto' | 'cpu' | 'cuda' → 'cpu' or 'cuda'; asking for CUDA without a GPU is a user error."""
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is available: use --device cpu or auto")
    return "cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu"
