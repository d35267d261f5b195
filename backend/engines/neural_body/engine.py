"""The neural body engine as the registry uses it: a checkpoint loaded once, then one call per take.

Masked keyframe prompts (options.prompts) also enter the model as given channels of its masked-motion
input, so the generated motion leads into them; the pipeline's apply_prompts still makes them exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...analysis import SpeechAnalysis
from ...errors import UserError
from ...models import BODY_MODEL, missing_model_message
from ...motion.dynamics import enforce_dynamics
from ...progress import JobControl
from .infer import DEFAULT_CHECKPOINT, KnownMotion, SamplingParams, generate_motion
from .model import load_checkpoint

SINGLE_THREAD_MAX_PARAMS = 10_000_000


class NeuralBodyGenerator:
    """One loaded body model on one device."""

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

    def generate(self, analysis: SpeechAnalysis, rng: np.random.Generator, control: JobControl | None,
                 prompts_path: str | None = None, sampling: SamplingParams = SamplingParams(),
                 speaker: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        if analysis.samples is None:
            raise UserError("the neural body engine needs the audio waveform (SpeechAnalysis.samples)")
        trained = self.payload.get("meta", {}).get("speakers")
        if speaker is not None and trained is not None and speaker not in trained:
            raise UserError(f"{self.path.name} was not trained on speaker {speaker}: choose one of "
                            f"{', '.join(map(str, trained))}")
        known = prompts_as_known(prompts_path, analysis.n_frames) if prompts_path else None
        seed = int(rng.integers(2**63 - 1))
        threads = torch.get_num_threads()
        if self.single_thread:
            torch.set_num_threads(1)
        try:
            out = generate_motion(self.model, analysis.samples, analysis.n_frames, seed, speaker=speaker,
                                  sampling=sampling, known=known, control=control)
        finally:
            torch.set_num_threads(threads)
        # A sampled network can still flip a forearm's twist or outrun a person: the shared post-process.
        return enforce_dynamics(out.poses, analysis.fps), out.trans


def prompts_as_known(path: str, n_frames: int) -> KnownMotion:
    """A prompts .npz (backend/prompts.py) as dense per-frame given channels."""
    from ...prompts import read_prompts

    p = read_prompts(path, n_frames)
    poses = np.zeros((n_frames, 55, 3), np.float32)
    trans = np.zeros((n_frames, 3), np.float32)
    joint_mask = np.zeros((n_frames, 55), bool)
    trans_mask = np.zeros(n_frames, bool)
    frames = np.asarray(p.frames, int)
    poses[frames], joint_mask[frames] = p.poses, p.pose_mask
    trans[frames], trans_mask[frames] = p.trans, p.trans_mask
    return KnownMotion(poses, trans, joint_mask, trans_mask)
