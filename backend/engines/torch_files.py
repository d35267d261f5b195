"""Reading the torch files Orator writes (checkpoints, face styles) without ever unpickling code."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from ..errors import UserError

MAX_CONFIG_INT = 1 << 16   # every size in a model config (widths, layers, codebooks, 16000 Hz); 10^9 meant TBs


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
    if "config" in payload:
        _check_config(payload["config"], path.name, kind, how_to_make)
    return payload


def _check_config(config, name: str, kind: str, how_to_make: str, where: str = "config") -> None:
    """Sizes a model would be built with: whole numbers within MAX_CONFIG_INT, before anything is allocated."""
    if isinstance(config, dict):
        for key, value in config.items():
            _check_config(value, name, kind, how_to_make, f"{where}.{key}")
    elif isinstance(config, (list, tuple)):
        for i, value in enumerate(config):
            _check_config(value, name, kind, how_to_make, f"{where}[{i}]")
    elif isinstance(config, bool) or config is None or isinstance(config, str):
        return
    elif isinstance(config, int):
        if not -1 <= config <= MAX_CONFIG_INT:
            raise UserError(f"{name}: {kind} {where} = {config} is out of range (damaged file?): make it again with "
                            f"`{how_to_make}`")
    elif isinstance(config, float):
        if not (config == config and abs(config) <= MAX_CONFIG_INT):
            raise UserError(f"{name}: {kind} {where} = {config} is out of range: make it again with `{how_to_make}`")
    else:
        raise UserError(f"{name}: {kind} {where} holds a {type(config).__name__}: make it again with `{how_to_make}`")


def build_fitting(factory, stored: dict, name: str, kind: str, how_to_make: str):
    """factory() only when the weights stored in the file fill the model its config describes.

    Per-value limits (MAX_CONFIG_INT) still let a crafted config combine sizes into ~16 GB of
    parameters; building on the meta device costs no memory and tells the real size first.
    stored: the file's state dict (tensors already read, so bounded by the file's size).
    """
    with torch.device("meta"):
        probe = factory()
    wanted = sum(t.numel() for t in probe.state_dict().values())
    have = sum(t.numel() for t in stored.values() if isinstance(t, torch.Tensor)) if isinstance(stored, dict) else 0
    if wanted > have:
        raise UserError(f"{name}: its {kind} config describes {wanted:,} weights but the file holds {have:,} "
                        f"(damaged file?): make it again with `{how_to_make}`")
    return factory()


@contextmanager
def user_file(path, kind: str, how_to_make: str):
    """Errors while building a model from a user's (right-tagged) file are that file's fault: one UserError line."""
    try:
        yield
    except UserError:
        raise
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError, AttributeError, MemoryError) as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:160]
        raise UserError(f"{Path(path).name if path else 'the shipped ' + kind} has damaged contents "
                        f"({exc.__class__.__name__}: {detail}): make it again with `{how_to_make}`") from None



def check_config_types(config, name: str, kind: str, how_to_make: str, where: str = "config") -> None:
    """Each field of a (nested) config dataclass holds the type it declares; "abc" as a window is a damaged file."""
    from dataclasses import fields, is_dataclass

    for f in fields(config):
        value, declared, at = getattr(config, f.name), str(f.type), f"{where}.{f.name}"
        if is_dataclass(value):
            check_config_types(value, name, kind, how_to_make, at)
            continue
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, (int, float)) and not isinstance(value, bool),
              "bool": isinstance(value, bool),
              "str": isinstance(value, str)}.get(declared)
        if declared.startswith("tuple[str"):
            ok = isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value)
        if ok is False:
            raise UserError(f"{name}: {kind} {at} = {value!r:.40} is not a {declared} (damaged file?): make it again "
                            f"with `{how_to_make}`")


def load_checked(make, path: str | Path | None, shipped: str, kind: str, how_to_make: str, config_of):
    """make() → a loaded engine, its config's field types checked; a missing or damaged file is one UserError.

    path: the user's file, or None for the shipped model named `shipped`.
    """
    with user_file(path, kind, how_to_make):
        loaded = make()
        check_config_types(config_of(loaded), Path(path or shipped).name, kind, how_to_make)
    return loaded
