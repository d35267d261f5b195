"""Atomic file writing (readers — Blender, a batch re-run — never see half a file) and reading users' matrix files."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_write(path: str | os.PathLike, binary: bool = False) -> Iterator[IO]:
    """Open a temp file beside `path`; on success rename it into place, on error remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs follow the umask like any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_matrix(path: str | os.PathLike, shape: tuple[int, int], name: str):
    """A user's float matrix from .npy or a one-array .npz, never unpickling; UserError naming `name`
    (e.g. "ARKit→FLAME matrix") when unreadable, of another shape or not finite. Returns float32."""
    import numpy as np

    from .errors import UserError

    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                if len(data.files) != 1:
                    raise UserError(f"{path}: the npz must hold exactly one {shape} array")
                data = data[data.files[0]]
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path}: not a readable .npy/.npz matrix ({exc.__class__.__name__})") from None
    matrix = np.asarray(data, dtype=np.float32)
    if matrix.shape != tuple(shape):
        raise UserError(f"{path}: {name} must be {tuple(shape)}, got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise UserError(f"{path}: {name} contains NaN or infinite values")
    return matrix
