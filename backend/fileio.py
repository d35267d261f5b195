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


def read_matrix(path: str | os.PathLike, shape: tuple[int, int], name: str, max_abs: float | None = None):
    """A user's real matrix from .npy or a one-array .npz, never unpickling and never decompressing more
    than a small matrix needs; UserError naming `name` (e.g. "ARKit→FLAME matrix") when unreadable, of
    another shape or type, not finite, or with entries beyond max_abs. Returns float32."""
    import numpy as np

    from .errors import UserError
    from .safe_npz import load_array_file, npz_declared

    limit = 1 << 20  # bytes: a (52, 100) float64 is 42 kB, larger declarations are refused unread
    try:
        with open(path, "rb") as fh:
            is_zip = fh.read(2) == b"PK"
        if is_zip and len(npz_declared(path, limit)) != 1:
            raise UserError(f"{path}: the npz must hold exactly one {tuple(shape)} array")
        data = load_array_file(path, limit)
        if isinstance(data, dict):
            data = next(iter(data.values()))
    except OSError as exc:
        raise UserError(f"{path}: not a readable .npy/.npz matrix ({exc.__class__.__name__})") from None
    if not np.issubdtype(data.dtype, np.number) or np.issubdtype(data.dtype, np.complexfloating):
        raise UserError(f"{path}: {name} must hold real numbers, got {data.dtype}")
    matrix = np.asarray(data, dtype=np.float32)
    if matrix.shape != tuple(shape):
        raise UserError(f"{path}: {name} must be {tuple(shape)}, got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise UserError(f"{path}: {name} contains NaN or infinite values")
    if max_abs is not None and float(np.abs(matrix).max()) > max_abs:
        raise UserError(f"{path}: {name} entries reach {float(np.abs(matrix).max()):.3g}; expected a few units "
                        f"(limit {max_abs:g}) — check its scale")
    return matrix
