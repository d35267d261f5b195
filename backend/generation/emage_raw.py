"""--raw: EMAGE's own result as the official code writes it (backend/engines/emage/raw.py), beside the
pipeline: one take from the audio at 16 kHz, no Orator post-process, its own summary."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .. import __version__
from ..fileio import atomic_write
from ..progress import JobControl
from ..vocabulary.rates import AUDIO_RATE, MOTION_FPS
from ..prompts import read_prompts

if TYPE_CHECKING:
    from ..engines.registry import EngineCache
    from ..options import GenerateOptions


def run_raw(audio_path, out_dir: Path, summary_path: Path, options: GenerateOptions,
            control: JobControl | None = None, engines: EngineCache | None = None) -> dict:
    """--raw: the official output file (raw.py) in out_dir (made and checked writable by the caller) from the
    audio at 16 kHz, one take, no post-process; the summary written last to summary_path and returned."""
    from ..audio.io import load_audio
    from ..engines.emage.engine import prompt_masks
    from ..engines.emage.raw import official_arrays, write_official_npz
    from ..engines.registry import EngineCache

    started = time.perf_counter()
    control = control or JobControl()
    generator = (engines or EngineCache()).body(options).generator   # a bad folder fails before the audio
    audio = load_audio(audio_path, control.sub(0.0, 0.05))
    mm = mk = ref = None
    if options.prompts:
        n = len(audio.samples) * MOTION_FPS // AUDIO_RATE
        motion, mask, first = prompt_masks(read_prompts(options.prompts, n), n)
        mm, mk = torch.from_numpy(motion), torch.from_numpy(mask)
        ref = None if first is None else torch.from_numpy(first)
    inf = generator.model.infer(torch.from_numpy(audio.samples), mm, mk, control=control.sub(0.05, 0.95))
    arrays = official_arrays(generator.model.decode(inf, ref))
    path = write_official_npz(out_dir / "motion.npz", arrays)
    summary = {"orator_version": __version__, "audio": str(audio_path), "output_dir": str(out_dir),
               "seconds": round(audio.duration, 4), "frames": int(arrays["poses"].shape[0]), "fps": MOTION_FPS,
               "engine": "emage", "raw": True, "checkpoint": str(options.checkpoint),
               "weights": generator.model.weights.files, "takes": [{"take": 1, "motion": str(path)}],
               "warnings": [], "elapsed_s": round(time.perf_counter() - started, 3)}
    with atomic_write(summary_path) as fh:
        json.dump(summary, fh, indent=2)
    control.report(1.0, "done")
    return summary
