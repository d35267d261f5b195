"""Reading the torch files Orator writes (checkpoints, face styles) without ever unpickling code."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UserError


def read_tagged(path: str | Path, tag: str, kind: str, how_to_make: str, device: str = "cpu") -> dict:
    """The payload dict of an Orator torch file whose "format" is `tag`, read with weights_only=True.

    kind names the file in errors ("face checkpoint"); how_to_make is the command that writes one.
    A missing, unreadable or foreign file is a one-line UserError.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{kind} not found: {path}")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise UserError(f"{path.name} is not a readable {kind} ({exc.__class__.__name__}): "
                        f"make one with `{how_to_make}`") from None
    if not isinstance(payload, dict) or payload.get("format") != tag:
        raise UserError(f"{path.name} is not an Orator {kind}: make one with `{how_to_make}`")
    return payload
