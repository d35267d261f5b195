"""The neural body engine behind the one engine interface: a checkpoint loaded once, then one call per take.

Masked keyframe prompts (request.prompts) also enter the model as given channels of its masked-motion
input, so the generated motion leads into them; the pipeline's apply_prompts still makes them exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...errors import UserError
from ...models import BODY_MODEL, missing_model_message
from ...motion.dynamics import enforce_dynamics
from ..interface import BodyMotion, EngineRequest
from .infer import DEFAULT_CHECKPOINT, KnownMotion, SamplingParams, generate_motion
from .model import load_checkpoint

SINGLE_THREAD_MAX_PARAMS = 10_000_000


class NeuralBodyEngine:
    """EMAGE-style learned body (part VQ-VAEs + masked audio-gesture transformer): one model on one device."""

    name = "neural"

    def __init__(self, checkpoint: str | Path | None, device: str) -> None:
        path = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
        if not path.is_file() and checkpoint is None:
            raise UserError(missing_model_message(BODY_MODEL, "--checkpoint (from `train-body`)"))
        self.path = path
        self.model, self.payload = load_checkpoint(path, device)
        # Small models on CPU: per-op work is tiny, so a second thread only adds synchronisation (measured
        # 0.5 s vs 27 s for 60 s of audio with the shipped model on a busy 2-core machine).
        n_params = sum(p.numel() for p in self.model.parameters())
        self.single_thread = device == "cpu" and n_params < SINGLE_THREAD_MAX_PARAMS

    @classmethod
    def load(cls, checkpoint: str | None, device: str) -> "NeuralBodyEngine":
        """The engine, or one UserError naming a missing or damaged checkpoint (config types checked)."""
        from ..torch_files import load_checked
        return load_checked(lambda: cls(checkpoint, device), checkpoint, BODY_MODEL, "body checkpoint",
                            "python -m backend train-body", lambda engine: engine.model.cfg)

    def generate_body(self, request: EngineRequest, sampling: SamplingParams = SamplingParams()) -> BodyMotion:
        analysis, speaker = request.analysis, request.speaker
        if analysis.samples is None:
            raise UserError("the neural body engine needs the audio waveform (SpeechAnalysis.samples)")
        trained = self.payload.get("meta", {}).get("speakers")
        if speaker is not None and trained is not None and speaker not in trained:
            raise UserError(f"{self.path.name} was not trained on speaker {speaker}: choose one of "
                            f"{', '.join(map(str, trained))}")
        known = prompts_as_known(request.prompts) if request.prompts is not None else None
        seed = int(request.rng.integers(2**63 - 1))
        threads = torch.get_num_threads()
        if self.single_thread:
            torch.set_num_threads(1)
        try:
            out = generate_motion(self.model, analysis.samples, analysis.n_frames, seed, speaker=speaker,
                                  sampling=sampling, known=known, control=request.control)
        finally:
            torch.set_num_threads(threads)
        # A sampled network can still flip a forearm's twist or outrun a person: the shared post-process.
        return BodyMotion(enforce_dynamics(out.poses, analysis.fps), out.trans)


def prompts_as_known(prompts) -> KnownMotion:
    """Prompts spread over the take (prompts.keyframes.DensePrompts) as the model's given channels."""
    return KnownMotion(np.asarray(prompts.poses, np.float32), np.asarray(prompts.trans, np.float32),
                       np.asarray(prompts.pose_mask, bool), np.asarray(prompts.trans_mask, bool))
