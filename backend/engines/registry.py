"""Engines by name: the names a job may ask for, and the one cache of loaded engines.

An engine is loaded once per (kind, name, weights file, device) and kept (the worker and batch reuse it
between jobs); engines themselves hold no cache of models. Every engine follows interface.py.
Engine modules are imported only when a job asks for them (torch stays unloaded for built-in jobs).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import UserError
from .interface import BodyEngine, EngineChoice, FaceEngine

from ..vocabulary.choices import BODY_ENGINES, FACE_ENGINES


def check_engine_names(engine: str, face_engine: str) -> None:
    """One UserError naming an unknown body or face engine and the choices."""
    if engine not in BODY_ENGINES:
        raise UserError(f"unknown engine '{engine}': choose one of {', '.join(BODY_ENGINES)}")
    if face_engine not in FACE_ENGINES:
        raise UserError(f"unknown face engine '{face_engine}': choose one of {', '.join(FACE_ENGINES)}")


def _device(options: EngineChoice) -> str:
    from .device import resolve_device
    return resolve_device(options.device)


def _builtin_body(options: EngineChoice) -> BodyEngine:
    from .builtin.engine import BuiltinBodyEngine
    return BuiltinBodyEngine()


def _neural_body(options: EngineChoice) -> BodyEngine:
    from .neural_body.engine import NeuralBodyEngine
    return NeuralBodyEngine.load(options.checkpoint, _device(options))


def _emage_body(options: EngineChoice) -> BodyEngine:
    from .emage.engine import EmageBodyEngine
    return EmageBodyEngine(options.checkpoint, _device(options))


def _builtin_face(options: EngineChoice) -> FaceEngine:
    from .builtin.engine import BuiltinFaceEngine
    return BuiltinFaceEngine()


def _neural_face(options: EngineChoice) -> FaceEngine:
    from .neural_face.engine import NeuralFaceEngine
    return NeuralFaceEngine.load(options.face_checkpoint, _device(options))


# name → (what identifies the loaded weights, loader)
_BODY: dict[str, tuple[Callable[[EngineChoice], tuple], Callable[[EngineChoice], BodyEngine]]] = {
    "builtin": (lambda o: (), _builtin_body),
    "neural": (lambda o: (o.checkpoint, _device(o)), _neural_body),
    "emage": (lambda o: (str(Path(o.checkpoint).expanduser().resolve()), _device(o)), _emage_body),
}
_FACE: dict[str, tuple[Callable[[EngineChoice], tuple], Callable[[EngineChoice], FaceEngine]]] = {
    "builtin": (lambda o: (), _builtin_face),
    "neural": (lambda o: (o.face_checkpoint, _device(o)), _neural_face),
}
assert tuple(_BODY) == BODY_ENGINES and tuple(_FACE) == FACE_ENGINES


class EngineCache:
    """The one cache of loaded engines, kept across jobs (neural engines load their weights once)."""

    def __init__(self) -> None:
        self._loaded: dict[tuple, BodyEngine | FaceEngine] = {}

    def _get(self, kind: str, table: dict, name: str, options: EngineChoice):
        weights, load = table[name]
        key = (kind, name, *weights(options))
        if key not in self._loaded:
            self._loaded[key] = load(options)
        return self._loaded[key]

    def body(self, options: EngineChoice) -> BodyEngine:
        check_engine_names(options.engine, options.face_engine)
        return self._get("body", _BODY, options.engine, options)

    def face(self, options: EngineChoice) -> FaceEngine:
        """The face engine, with the job's --face-style read now: a bad file fails before the analysis."""
        check_engine_names(options.engine, options.face_engine)
        engine = self._get("face", _FACE, options.face_engine, options)
        if options.face_style and hasattr(engine, "check_style"):
            engine.check_style(options.face_style)
        return engine

    def get(self, options: EngineChoice) -> tuple[BodyEngine, FaceEngine]:
        """(body, face) engines for a job, loaded now so a bad checkpoint fails in seconds."""
        return self.body(options), self.face(options)
