"""Generation parameters as one frozen dataclass: the CLI, the worker and the add-on all build this."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import UserError
from .vocabulary.choices import (BODY_ENGINES, DEVICES, EMOTIONS, FACE_ENGINES, FACE_FORMATS, LANGUAGES, MAX_TAKES,
                                 RECOGNIZERS)


@dataclass(frozen=True)
class GenerateOptions:
    engine: str = "builtin"            # body engine
    face_engine: str = "builtin"
    seed: int = 0
    takes: int = 1
    emotion: str = "neutral"
    intensity: float = 0.5             # 0..1, strength of the emotion
    transcript: str | None = None      # exact words spoken, enables forced alignment
    language: str = "auto"             # en: English phones; other: acoustic mouth only; auto: decide
    recognizer: str = "words"          # no transcript: words (exact lips) | phones (faster)
    arkit_to_flame: str | None = None  # path of a (52, 100) float matrix, ARKit → FLAME expressions
    bvh: bool = False                  # also write the skeleton motion as BVH
    device: str = "auto"               # one of DEVICES: auto | cpu | cuda (neural engines)
    face_style: str | None = None      # .orstyle file from `personalize` (neural face engine)
    face_checkpoint: str | None = None  # neural face model; None = the shipped one
    prompts: str | None = None         # masked keyframe prompts .npz (backend/prompts.py)
    checkpoint: str | None = None      # neural body model from `train-body`; None = the shipped one
    speaker: int | None = None         # neural body: a speaker id it was trained on; None = its default
    smplx_model: str | None = None     # user's SMPL-X .npz: motion.npz fingers relative to its mean hand
    face_format: str = "arkit"         # arkit | oculus | vrm: oculus/vrm also write face_<format>.csv
    raw: bool = False                  # emage: the network's own result, written as the official code does
    flame_to_arkit: str | None = None  # emage: path of a (100, 52) FLAME → ARKit matrix for the face curves

    def validated(self) -> "GenerateOptions":
        """Return self after checking every field; raise UserError with an actionable line otherwise."""
        if self.engine not in BODY_ENGINES:
            raise UserError(f"unknown engine '{self.engine}': choose one of {', '.join(BODY_ENGINES)}")
        if self.face_engine not in FACE_ENGINES:
            raise UserError(f"unknown face engine '{self.face_engine}': choose one of {', '.join(FACE_ENGINES)}")
        if self.emotion not in EMOTIONS:
            raise UserError(f"unknown emotion '{self.emotion}': choose one of {', '.join(EMOTIONS)}")
        if not 0.0 <= float(self.intensity) <= 1.0:
            raise UserError(f"intensity must be between 0 and 1, got {self.intensity}")
        if self.language not in LANGUAGES:
            raise UserError(f"unknown language '{self.language}': choose one of {', '.join(LANGUAGES)}")
        if self.recognizer not in RECOGNIZERS:
            raise UserError(f"unknown recognizer '{self.recognizer}': choose one of {', '.join(RECOGNIZERS)}")
        if not 1 <= int(self.takes) <= MAX_TAKES:
            raise UserError(f"takes must be between 1 and {MAX_TAKES}, got {self.takes}")
        if not 0 <= int(self.seed) < 2**32:
            raise UserError(f"seed must be between 0 and {2**32 - 1}, got {self.seed}")
        if self.device not in DEVICES:
            raise UserError(f"unknown device '{self.device}': choose one of {', '.join(DEVICES)}")
        if self.transcript is not None and not self.transcript.strip():
            raise UserError("the transcript is empty: give the words spoken, or leave it out")
        if self.arkit_to_flame is not None and not Path(self.arkit_to_flame).is_file():
            raise UserError(f"ARKit→FLAME matrix not found: {self.arkit_to_flame}")
        if self.face_style is not None:
            if self.face_engine != "neural":
                raise UserError("a face style needs the neural face engine: add --face-engine neural")
            if not Path(self.face_style).is_file():
                raise UserError(f"face style file not found: {self.face_style}")
        if self.face_checkpoint is not None:
            if self.face_engine != "neural":
                raise UserError("a face checkpoint needs the neural face engine: add --face-engine neural")
            if not Path(self.face_checkpoint).is_file():
                raise UserError(f"face checkpoint not found: {self.face_checkpoint}")
        if self.smplx_model is not None and not Path(self.smplx_model).is_file():
            raise UserError(f"SMPL-X model file not found: {self.smplx_model}")
        if self.prompts is not None and not Path(self.prompts).is_file():
            raise UserError(f"prompts file not found: {self.prompts}")
        if self.face_format not in FACE_FORMATS:
            raise UserError(f"unknown face format '{self.face_format}': choose one of {', '.join(FACE_FORMATS)}")
        if self.speaker is not None:
            if self.engine != "neural":
                raise UserError("a speaker needs the neural body engine: add --engine neural")
            if int(self.speaker) < 0:
                raise UserError(f"speaker must be 0 or more, got {self.speaker}")
        if self.engine == "emage":
            self._validate_emage()
        elif self.raw or self.flame_to_arkit is not None:
            raise UserError("--raw and --flame-to-arkit need the EMAGE engine: add --engine emage --checkpoint DIR")
        if self.checkpoint is not None and self.engine != "emage":
            if self.engine != "neural":
                raise UserError("a body checkpoint needs the neural body engine: add --engine neural")
            if not Path(self.checkpoint).is_file():
                raise UserError(f"body checkpoint not found: {self.checkpoint}")
        return self

    def _validate_emage(self) -> None:
        """EMAGE needs the downloaded folder; its configs and files are checked here, the tensors on load."""
        from .engines.emage.checkpoint import DOWNLOAD_HINT, check_folder
        if self.checkpoint is None:
            raise UserError(f"the EMAGE engine needs the downloaded model folder: --checkpoint DIR ({DOWNLOAD_HINT})")
        check_folder(self.checkpoint)
        if self.raw and int(self.takes) != 1:
            raise UserError("--raw writes the official model's single result: use --takes 1")
        if self.flame_to_arkit is not None and not Path(self.flame_to_arkit).is_file():
            raise UserError(f"FLAME→ARKit matrix not found: {self.flame_to_arkit}")

    @classmethod
    def from_mapping(cls, values: dict) -> "GenerateOptions":
        """Build from a JSON object (worker requests); unknown keys are a user error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        try:
            return replace(cls(), **values).validated()
        except TypeError as exc:  # wrong value types from JSON
            raise UserError(f"bad option value: {exc}") from None
