"""The prompts file: an uncompressed `.npz` of the arrays keyframes.py describes, never unpickled."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from .keyframes import PROMPT_KEYS, Prompts, check_prompt_frames, prompts_from_arrays

MAX_PROMPT_BYTES = 256 << 20    # per array: 100,000 prompt frames of float64 poses are 132 MB


def read_prompts(path: str | Path, n_frames: int | None = None) -> Prompts:
    """Load and check a prompts .npz; with n_frames, also that every fixed frame is inside the audio."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"prompts file not found: {path}")
    from ..safe_npz import load_array_file

    try:
        arrays = load_array_file(path, MAX_PROMPT_BYTES, PROMPT_KEYS)  # declared sizes checked, unused members never inflated
    except UserError as exc:
        raise UserError(f"not a readable prompts .npz: {exc}") from None
    except OSError as exc:
        raise UserError(f"{path}: not a readable prompts .npz ({exc.__class__.__name__})") from None
    if not isinstance(arrays, dict):
        raise UserError(f"{path}: a prompts file must be an .npz archive (this is a single .npy array)")
    arrays = {k: v for k, v in arrays.items() if k in PROMPT_KEYS}
    prompts = prompts_from_arrays(arrays, str(path))
    if n_frames is not None:
        check_prompt_frames(prompts, n_frames, str(path))
    return prompts


def write_prompts(path: str | Path, prompts: Prompts) -> Path:
    """Write prompts as an uncompressed .npz (the format read_prompts reads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez(fh, frames=np.asarray(prompts.frames, np.int64), pose_mask=np.asarray(prompts.pose_mask, bool),
                 poses=np.asarray(prompts.poses, np.float32), trans_mask=np.asarray(prompts.trans_mask, bool),
                 trans=np.asarray(prompts.trans, np.float32), arkit_mask=np.asarray(prompts.arkit_mask, bool),
                 arkit=np.asarray(prompts.arkit, np.float32))
    return path
