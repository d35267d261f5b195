"""Training data made by the built-in body engine over real speech, in the BEAT2 layout (beat2.py).

Kept apart from the model code: only training needs the built-in generator, never inference."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...vocabulary.rates import AUDIO_RATE


def write_builtin_dataset(audio_files: list[Path], out_dir: str | Path, takes: int = 3, speaker: int = 1,
                          transcripts: dict[str, str] | None = None, log=None) -> Path:
    """A BEAT2-layout folder of built-in engine motion over real speech: for each audio file and take k,
    `smplxflame_30/<speaker>_<stem>_<k>.npz` + `wave16k/<same>.wav` (16 kHz). Shippable training data
    when no co-speech mocap is available; also what the tests train on."""
    import soundfile as sf

    from ...audio.analyze import analyze_speech
    from ...audio.io import load_audio
    from ...formats.motion_npz import write_motion_npz
    from ..builtin.body import generate_body

    out_dir = Path(out_dir)
    (out_dir / "smplxflame_30").mkdir(parents=True, exist_ok=True)
    (out_dir / "wave16k").mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(audio_files):
        audio = load_audio(path)
        text = (transcripts or {}).get(Path(path).stem)
        analysis = analyze_speech(audio, text, "en")
        for k in range(takes):
            poses, trans = generate_body(analysis, "neutral", 0.5, np.random.default_rng([i, k]))
            name = f"{speaker}_{Path(path).stem}_{k}"
            write_motion_npz(out_dir / "smplxflame_30" / f"{name}.npz", poses, trans,
                             np.zeros((len(poses), 52), np.float32))
            sf.write(out_dir / "wave16k" / f"{name}.wav", audio.samples, AUDIO_RATE, subtype="PCM_16")
        if log is not None:
            log(f"built-in motion {i + 1}/{len(audio_files)}: {Path(path).name} × {takes}")
    return out_dir
