"""Reading user .npz/.npy files with their declared sizes checked before a byte of data is inflated.

`np.load(allow_pickle=False)` already refuses code; this also refuses memory bombs: a 3.1 MB npz whose
unused member inflates to 3 GiB, or a header declaring (10^12,) floats. Each member's .npy header is read
from the zip stream alone (a few hundred bytes), its shape × itemsize compared with the size the zip
records for it and with a limit, and only the members asked for are loaded.
"""
from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .errors import UserError

MAX_MEMBER_BYTES = 1 << 30   # 1 GiB per array: SMPL-X's shapedirs (10475, 3, 400) float64 is 100 MB


def _read_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    return tuple(int(n) for n in shape), np.dtype(dtype)


def _check_declared(source: str, name: str, shape, dtype: np.dtype, stored: int, max_bytes: int) -> None:
    if dtype.hasobject:
        return  # never loaded (allow_pickle=False refuses it when asked for); its size means nothing
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_bytes:
        raise UserError(f"{source}: array '{name}' declares shape {shape} ({nbytes / 2**30:.3g} GiB), above the "
                        f"{max_bytes / 2**30:.3g} GiB limit — the file is damaged or not what Orator expects")
    if nbytes > stored:
        raise UserError(f"{source}: array '{name}' declares {nbytes} bytes but the file holds {stored} — "
                        "the file is damaged")


def npz_declared(path: str | os.PathLike, max_bytes: int = MAX_MEMBER_BYTES) -> dict[str, tuple[tuple, np.dtype]]:
    """{member name: (shape, dtype)} from the headers only; UserError for an unreadable or oversized member."""
    path = Path(path)
    source = path.name
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as fh:
                    shape, dtype = _read_header(fh)
                _check_declared(source, name, shape, dtype, info.file_size, max_bytes)
                out[name] = (shape, dtype)
    except UserError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise UserError(f"{source} is not a readable .npz archive ({exc.__class__.__name__}) — save it with "
                        "numpy.savez") from None
    return out


def load_npz(path: str | os.PathLike, keys=None, max_bytes: int = MAX_MEMBER_BYTES) -> dict[str, np.ndarray]:
    """The members `keys` (all when None; absent ones are left out) of an .npz, sizes checked first."""
    path = Path(path)
    declared = npz_declared(path, max_bytes)
    wanted = [k for k in (declared if keys is None else keys) if k in declared]
    for k in wanted:
        if declared[k][1].hasobject:
            raise UserError(f"{path.name}: array '{k}' is a pickled object array, which Orator never unpickles — "
                            "save it as a plain numeric array")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in wanted}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path.name} is not a readable .npz archive ({exc.__class__.__name__})") from None


def load_npy(path: str | os.PathLike, max_bytes: int = MAX_MEMBER_BYTES) -> np.ndarray:
    """One .npy array, its header checked against the file size first."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            shape, dtype = _read_header(fh)
            header_end = fh.tell()
        if dtype.hasobject:
            raise UserError(f"{path.name} is a pickled object array, which Orator never unpickles")
        _check_declared(path.name, "array", shape, dtype, path.stat().st_size - header_end, max_bytes)
        return np.load(path, allow_pickle=False)
    except UserError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path.name} is not a readable .npy array ({exc.__class__.__name__})") from None


def load_array_file(path: str | os.PathLike, max_bytes: int = MAX_MEMBER_BYTES, keys=None):
    """An .npy array or an .npz's arrays `keys` (dict; all when None), judged by content, not by the suffix."""
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic[:4] == b"PK\x03\x04" or magic[:4] == b"PK\x05\x06":
        return load_npz(path, keys, max_bytes)
    if magic == b"\x93NUMPY":
        return load_npy(path, max_bytes)
    raise UserError(f"{Path(path).name} is neither a .npy nor a .npz file — save it with numpy.save/savez")
