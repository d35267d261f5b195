"""Engines by name, loaded once and kept (the worker reuses them between jobs)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..analysis import SpeechAnalysis
from ..progress import JobControl
from ..vocabulary import choices

if TYPE_CHECKING:
    from ..options import GenerateOptions


class BuiltinFaceEngine:
    """Rule-based ARKit face: coarticulated visemes, blinks, gaze, brows, emotion. Needs no weights."""

    name = "builtin"

    def generate_face(self, analysis: SpeechAnalysis, options: GenerateOptions, rng: np.random.Generator,
                      control: JobControl) -> np.ndarray:
        from .builtin.face import generate_face
        return generate_face(analysis, options.emotion, options.intensity, rng, control)


class NeuralFaceEngine:
    """Imitator-style learned mouth (neural_face/) over the built-in eyes, brows and emotion.

    Loads each checkpoint once and keeps it; --face-style files are read once per path and change.
    """

    name = "neural"

    def __init__(self) -> None:
        self._generators: dict[tuple, object] = {}

    def generate_face(self, analysis: SpeechAnalysis, options: GenerateOptions, rng: np.random.Generator,
                      control: JobControl) -> np.ndarray:
        from .device import resolve_device
        from .neural_face.engine import NeuralFaceGenerator, generate_neural_face
        device = resolve_device(options.device)
        key = (options.face_checkpoint, device)
        if key not in self._generators:
            self._generators[key] = NeuralFaceGenerator(options.face_checkpoint, device)
        return generate_neural_face(self._generators[key], analysis, options.emotion, options.intensity, rng,
                                    control, options.face_style)

    def prepare(self, options: GenerateOptions) -> None:
        """Load the checkpoint and style now, so a bad file fails before the analysis, not after it."""
        from .device import resolve_device
        from .neural_face.engine import NeuralFaceGenerator
        from .torch_files import user_file
        device = resolve_device(options.device)
        key = (options.face_checkpoint, device)
        _load_checked(self._generators, key, lambda: NeuralFaceGenerator(options.face_checkpoint, device),
                      options.face_checkpoint, "face_generic.pt", "face checkpoint", "python -m backend train-face",
                      lambda generator: generator.model.config)
        if options.face_style:
            with user_file(options.face_style, "face style file", "python -m backend personalize"):
                self._generators[key].style(options.face_style)


class BuiltinBodyEngine:
    """Procedural SMPL-X body: idle layer plus gestures timed to stressed syllables. Needs no weights."""

    name = "builtin"

    def generate_body(self, analysis: SpeechAnalysis, options: GenerateOptions, rng: np.random.Generator,
                      control: JobControl) -> tuple[np.ndarray, np.ndarray]:
        from .builtin.body import generate_body
        return generate_body(analysis, options.emotion, options.intensity, rng, control)


class NeuralBodyEngine:
    """EMAGE-style learned body (neural_body/): part VQ-VAEs + masked audio-gesture transformer.

    Loads each checkpoint once per device and keeps it (--checkpoint; default: the shipped one).
    """

    name = "neural"

    def __init__(self) -> None:
        self._generators: dict[tuple, object] = {}

    def generate_body(self, analysis: SpeechAnalysis, options: GenerateOptions, rng: np.random.Generator,
                      control: JobControl) -> tuple[np.ndarray, np.ndarray]:
        from .device import resolve_device
        from .neural_body.engine import NeuralBodyGenerator
        device = resolve_device(options.device)
        key = (options.checkpoint, device)
        if key not in self._generators:
            self._generators[key] = NeuralBodyGenerator(options.checkpoint, device)
        return self._generators[key].generate(analysis, rng, control, options.prompts, speaker=options.speaker)

    def prepare(self, options: GenerateOptions) -> None:
        """Load the checkpoint now, so a bad file fails before the analysis, not after it."""
        from .device import resolve_device
        from .neural_body.engine import NeuralBodyGenerator
        device = resolve_device(options.device)
        key = (options.checkpoint, device)
        _load_checked(self._generators, key, lambda: NeuralBodyGenerator(options.checkpoint, device),
                      options.checkpoint, "body_small.pt", "body checkpoint", "python -m backend train-body",
                      lambda generator: generator.model.cfg)


def _load_checked(generators: dict, key: tuple, make, path: str | None, shipped: str, kind: str,
                  how_to_make: str, config_of) -> None:
    """generators[key] = make() once, its config's field types checked; a damaged file is one UserError."""
    from .torch_files import check_config_types, user_file
    with user_file(path, kind, how_to_make):
        if key not in generators:
            generator = make()
            check_config_types(config_of(generator), Path(path or shipped).name, kind, how_to_make)
            generators[key] = generator


def _emage_engine():
    from .emage.engine import EmageBodyEngine
    return EmageBodyEngine()


BODY_ENGINES = {"builtin": BuiltinBodyEngine, "neural": NeuralBodyEngine, "emage": _emage_engine}
FACE_ENGINES = {"builtin": BuiltinFaceEngine, "neural": NeuralFaceEngine}
# options.validated checks names against the vocabulary's lists: these tables must serve exactly those
assert tuple(BODY_ENGINES) == choices.BODY_ENGINES and tuple(FACE_ENGINES) == choices.FACE_ENGINES


class EngineCache:
    """Keeps each engine instance alive across jobs (neural engines load weights once)."""

    def __init__(self) -> None:
        self._body: dict[tuple, object] = {}
        self._face: dict[tuple, object] = {}

    def get(self, options: GenerateOptions):
        body_key = (options.engine, options.device)
        face_key = (options.face_engine, options.device)
        if body_key not in self._body:
            self._body[body_key] = BODY_ENGINES[options.engine]()
        if face_key not in self._face:
            self._face[face_key] = FACE_ENGINES[options.face_engine]()
        return self._body[body_key], self._face[face_key]
