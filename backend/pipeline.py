"""Audio file → analysis → takes → standard files. The one path the CLI, batch and worker share."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .analysis import SpeechAnalysis
from .errors import UserError
from .face_joints import eye_rotations_from_arkit, head_and_eye_angles, jaw_rotation_from_arkit
from .fileio import atomic_write
from .formats.bvh import write_bvh
from .formats.livelink_csv import write_livelink_csv
from .formats.motion_npz import NUM_EXPRESSIONS, write_motion_npz
from .options import GenerateOptions
from .performance import Performance
from .progress import JobControl
from .prompts import apply_prompts, check_prompt_frames, read_prompts

SUMMARY_NAME = "summary.json"  # written last: its presence marks a finished output folder


@dataclass
class Generation:
    audio_path: Path
    duration: float
    analysis: SpeechAnalysis
    takes: list[Performance]


def take_rng(seed: int, take: int) -> np.random.Generator:
    """Independent, reproducible stream per (seed, take): take 2 of seed 7 never depends on take 1."""
    return np.random.default_rng([int(seed), int(take)])


def load_arkit_to_flame(path: str) -> np.ndarray:
    """A user's (52, 100) ARKit → FLAME expression matrix from .npy/.npz, never unpickling."""
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                if len(data.files) != 1:
                    raise UserError(f"{path}: the npz must hold exactly one (52, 100) array")
                data = data[data.files[0]]
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path}: not a readable .npy/.npz matrix ({exc.__class__.__name__})") from None
    matrix = np.asarray(data, dtype=np.float32)
    if matrix.shape != (52, NUM_EXPRESSIONS):
        raise UserError(f"{path}: ARKit→FLAME matrix must be (52, 100), got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise UserError(f"{path}: ARKit→FLAME matrix contains NaN or infinite values")
    return matrix


def assemble_performance(poses: np.ndarray, trans: np.ndarray, arkit: np.ndarray, meta: dict) -> Performance:
    """Combine body and face: the jaw joint follows jawOpen and the eye joints follow eyeLook*."""
    poses = np.array(poses, dtype=np.float32)
    poses[:, 22] = jaw_rotation_from_arkit(arkit)
    left, right = eye_rotations_from_arkit(arkit)
    poses[:, 23], poses[:, 24] = left, right
    return Performance(poses=poses, trans=np.asarray(trans, np.float32),
                       arkit=np.clip(arkit, 0.0, 1.0).astype(np.float32), meta=meta)


def generate(audio_path: str | Path, options: GenerateOptions, control: JobControl | None = None,
             engines=None) -> Generation:
    """Analyse the audio once and make `options.takes` performances of it."""
    from .audio.analyze import analyze_speech
    from .audio.io import load_audio
    from .engines.registry import EngineCache

    control = control or JobControl()
    options = options.validated()
    engines = engines or EngineCache()
    body_engine, face_engine = engines.get(options)
    prompts = read_prompts(options.prompts) if options.prompts else None  # a bad file fails before the analysis
    audio = load_audio(audio_path, control.sub(0.0, 0.05))
    analysis = analyze_speech(audio, options.transcript, options.language, control.sub(0.05, 0.6),
                              options.recognizer)
    if prompts is not None:
        check_prompt_frames(prompts, analysis.n_frames, options.prompts)
    takes = []
    per_take = 0.35 / options.takes
    for k in range(options.takes):
        start = 0.6 + k * per_take
        face_rng, body_rng = take_rng(options.seed, k + 1).spawn(2)
        face_control = control.sub(start, start + per_take / 2)
        face_control.report(0.0, f"take {k + 1}: face")
        arkit = face_engine.generate_face(analysis, options, face_rng, face_control)
        body_control = control.sub(start + per_take / 2, start + per_take)
        body_control.report(0.0, f"take {k + 1}: body")
        poses, trans = body_engine.generate_body(analysis, options, body_rng, body_control)
        if prompts is not None:  # the one place prompts reach every engine's output
            poses, trans, arkit = apply_prompts(poses, trans, arkit, prompts, analysis.fps)
        takes.append(assemble_performance(poses, trans, arkit, {
            "take": k + 1, "seed": options.seed, "engine": body_engine.name, "face_engine": face_engine.name}))
    return Generation(Path(audio_path), audio.duration, analysis, takes)


def prepare_output_dir(out_dir: str | Path) -> Path:
    """Create the output folder or fail with one line, before any expensive work."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {out_dir}: {exc.strerror or exc}") from None
    return out_dir


def take_dir(out_dir: Path, take: int, takes: int) -> Path:
    """One take writes straight into out_dir; several go to out_dir/take_1, take_2, …"""
    return out_dir if takes == 1 else out_dir / f"take_{take}"


def write_generation(gen: Generation, out_dir: str | Path, options: GenerateOptions,
                     control: JobControl | None = None, started: float | None = None) -> dict:
    """Write each take's motion.npz + face_arkit.csv (+ motion.bvh), then summary.json; return the summary."""
    control = control or JobControl()
    out_dir = prepare_output_dir(out_dir)
    flame = load_arkit_to_flame(options.arkit_to_flame) if options.arkit_to_flame else None
    hand_mean = None
    if options.bvh:
        from .formats.hand_pose import MEAN_RELAXED_HAND
        hand_mean = MEAN_RELAXED_HAND
    take_entries = []
    for perf in gen.takes:
        control.check()
        k = perf.meta["take"]
        folder = take_dir(out_dir, k, len(gen.takes))
        expressions = perf.arkit @ flame if flame is not None else None
        entry = {"take": k,
                 "motion": str(write_motion_npz(folder / "motion.npz", perf.poses, perf.trans, perf.arkit,
                                                expressions=expressions, fps=perf.fps)),
                 "face_csv": str(write_livelink_csv(folder / "face_arkit.csv", perf.arkit,
                                                    head_and_eye_angles(perf.poses), fps=perf.fps))}
        if options.bvh:
            entry["bvh"] = str(write_bvh(folder / "motion.bvh", perf.poses, perf.trans, perf.fps, hand_mean))
        take_entries.append(entry)
    a = gen.analysis
    summary = {
        "orator_version": __version__,
        "audio": str(gen.audio_path),
        "output_dir": str(out_dir),
        "seconds": round(gen.duration, 4),
        "frames": a.n_frames,
        "fps": a.fps,
        "engine": options.engine,
        "face_engine": options.face_engine,
        "seed": options.seed,
        "emotion": options.emotion,
        "intensity": options.intensity,
        "phone_source": a.phone_source,
        "phone_count": sum(p.label != "SIL" for p in a.phones),
        "phone_spans": [[round(t0, 2), round(t1, 2), how] for t0, t1, how in a.phone_spans],
        "takes": take_entries,
        "warnings": list(a.warnings),
        "options": {k: v for k, v in asdict(options).items() if k != "transcript"},
    }
    if started is not None:
        summary["elapsed_s"] = round(time.perf_counter() - started, 3)
    with atomic_write(out_dir / SUMMARY_NAME) as fh:
        json.dump(summary, fh, indent=2)
    control.report(1.0, "done")
    return summary


def run_generate(audio_path: str | Path, out_dir: str | Path, options: GenerateOptions,
                 control: JobControl | None = None, engines=None) -> dict:
    """Generate and write; returns the summary (what `--json` prints and the worker's `done` carries)."""
    started = time.perf_counter()
    control = control or JobControl()
    prepare_output_dir(out_dir)
    if options.arkit_to_flame:
        load_arkit_to_flame(options.arkit_to_flame)  # a bad matrix fails now, not after the analysis
    gen = generate(audio_path, options, control.sub(0.0, 0.95), engines)
    return write_generation(gen, out_dir, options, control.sub(0.95, 1.0), started)
