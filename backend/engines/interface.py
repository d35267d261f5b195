"""The one engine interface: every body and face engine takes an EngineRequest and returns typed motion.

An engine object is one loaded engine (its weights on one device, read once); the registry
(registry.py) builds it from the job's options and keeps it. Per take, the pipeline builds one
EngineRequest and calls `body_engine.generate_body(request)` and `face_engine.generate_face(request)`.
Prompts reach the engines already spread over the analysis' frames, read and densified once per job;
engines that can use them (neural body, EMAGE) take them as given channels, and the pipeline's
apply_prompts then makes them exact for every engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..analysis import SpeechAnalysis
from ..formats.motion_npz import NUM_EXPRESSIONS
from ..progress import JobControl
from ..vocabulary.face import NUM_ARKIT
from ..vocabulary.skeleton import NUM_JOINTS

if TYPE_CHECKING:
    from ..prompts.keyframes import DensePrompts


@dataclass(frozen=True, eq=False)
class EngineRequest:
    """Everything one take asks of an engine.

    analysis     the speech (analysis.n_frames frames at analysis.fps; analysis.samples the 16 kHz audio)
    emotion      one of options.EMOTIONS; intensity 0..1
    rng          the take's own generator (pipeline.take_rng): the only source of randomness
    control      progress and cancellation for this engine's share of the job
    take         1-based take number (EMAGE: take 1 is the official argmax)
    prompts      the job's prompts spread over analysis.n_frames, or None
    speaker      trained speaker id for engines that have them (neural body), or None
    face_style   a personalised face style file (neural face), or None
    """

    analysis: SpeechAnalysis
    emotion: str = "neutral"
    intensity: float = 0.5
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    control: JobControl = field(default_factory=JobControl)
    take: int = 1
    prompts: DensePrompts | None = None
    speaker: int | None = None
    face_style: str | None = None

    @property
    def n_frames(self) -> int:
        return int(self.analysis.n_frames)


@dataclass(frozen=True, eq=False)
class BodyMotion:
    """A body engine's take.

    poses        (T, 55, 3) float32  SMPL-X axis-angle per joint (the Performance convention)
    trans        (T, 3) float32      root translation, metres, Y up
    expressions  (T, 100) float32    FLAME expressions when the engine also makes a face (EMAGE), else None
    jaw          (T, 3) float32      that face's own jaw axis-angle (EMAGE), else None
    """

    poses: np.ndarray
    trans: np.ndarray
    expressions: np.ndarray | None = None
    jaw: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = len(self.poses)
        if np.shape(self.poses) != (t, NUM_JOINTS, 3) or np.shape(self.trans) != (t, 3):
            raise ValueError(f"body motion must be poses (T, {NUM_JOINTS}, 3) and trans (T, 3), got "
                             f"{np.shape(self.poses)} and {np.shape(self.trans)}")
        if self.expressions is not None and np.shape(self.expressions) != (t, NUM_EXPRESSIONS):
            raise ValueError(f"expressions must be (T, {NUM_EXPRESSIONS}), got {np.shape(self.expressions)}")
        if self.jaw is not None and np.shape(self.jaw) != (t, 3):
            raise ValueError(f"jaw must be (T, 3), got {np.shape(self.jaw)}")

    @property
    def n_frames(self) -> int:
        return len(self.poses)


@dataclass(frozen=True, eq=False)
class FaceMotion:
    """A face engine's take: arkit (T, 52) float32, ARKit weights 0..1 in Apple order."""

    arkit: np.ndarray

    def __post_init__(self) -> None:
        if np.ndim(self.arkit) != 2 or np.shape(self.arkit)[1] != NUM_ARKIT:
            raise ValueError(f"face motion must be (T, {NUM_ARKIT}) ARKit curves, got {np.shape(self.arkit)}")

    @property
    def n_frames(self) -> int:
        return len(self.arkit)


class EngineChoice(Protocol):
    """What the registry reads from a job's options to pick and load engines (options.GenerateOptions)."""

    engine: str                   # body engine name (registry.BODY_ENGINES)
    face_engine: str              # face engine name (registry.FACE_ENGINES)
    device: str                   # auto | cpu | cuda (engines/device.py resolves it)
    checkpoint: str | None        # body weights: neural .pt, EMAGE folder; None = the shipped model
    face_checkpoint: str | None   # neural face .pt; None = the shipped model
    face_style: str | None        # neural face style file, read when the engine is handed out


class BodyEngine(Protocol):
    """A loaded body engine. `name` is its registry name (summary `engine`)."""

    name: str

    def generate_body(self, request: EngineRequest) -> BodyMotion:
        """One take of request.n_frames frames."""
        ...


class FaceEngine(Protocol):
    """A loaded face engine. `name` is its registry name (summary `face_engine`)."""

    name: str

    def generate_face(self, request: EngineRequest) -> FaceMotion:
        """One take of request.n_frames frames."""
        ...
