"""Audio file → analysis → takes → standard files. The one path the CLI, batch and worker share."""
from __future__ import annotations

import errno
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..analysis import SpeechAnalysis
from ..audio.phone_timing import describe_phone_timing
from ..errors import UserError
from ..motion.face_joints import eye_rotations_from_arkit, head_and_eye_angles, jaw_rotation_from_arkit
from ..fileio import atomic_write, read_matrix
from ..formats.bvh import write_bvh
from ..formats.livelink_csv import write_livelink_csv
from ..formats.motion_npz import NUM_EXPRESSIONS, write_motion_npz
from ..options import GenerateOptions
from ..performance import Performance
from ..progress import JobControl
from ..prompts import apply_prompts, check_prompt_frames, read_prompts
from ..summary import SUMMARY_NAME, GenerationSummary, TakeFiles
from ..vocabulary.skeleton import JAW_JOINT, LEFT_EYE, RIGHT_EYE


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
    """A user's (52, 100) ARKit → FLAME expression matrix from ..npy/.npz, never unpickling."""
    # 3e38 entries made `expressions` inf: FLAME expression weights are a few units
    return read_matrix(path, (52, NUM_EXPRESSIONS), "ARKit→FLAME matrix", max_abs=MAX_FLAME_WEIGHT)


MAX_FLAME_WEIGHT = 1e3   # |entry| of an ARKit→FLAME matrix; 52 weights in 0..1 stay far from float32 overflow


def check_finite(perf: Performance, expressions: np.ndarray | None) -> None:
    """No output file ever holds NaN/Inf: an engine that produced one is an internal error, not a success."""
    for name, values in (("poses", perf.poses), ("trans", perf.trans), ("arkit", perf.arkit),
                         ("expressions", expressions)):
        if values is not None and not np.all(np.isfinite(values)):
            raise FloatingPointError(f"take {perf.meta.get('take')}: the {name} came out NaN/infinite; nothing "
                                     "was written")


def assemble_performance(poses: np.ndarray, trans: np.ndarray, arkit: np.ndarray, meta: dict) -> Performance:
    """Combine body and face: the jaw joint follows jawOpen and the eye joints follow eyeLook*."""
    poses = np.array(poses, dtype=np.float32)
    poses[:, JAW_JOINT] = jaw_rotation_from_arkit(arkit)
    poses[:, LEFT_EYE], poses[:, RIGHT_EYE] = eye_rotations_from_arkit(arkit)
    return Performance(poses=poses, trans=np.asarray(trans, np.float32),
                       arkit=np.clip(arkit, 0.0, 1.0).astype(np.float32), meta=meta)


def generate(audio_path: str | Path, options: GenerateOptions, control: JobControl | None = None,
             engines=None) -> Generation:
    """Analyse the audio once and make `options.takes` performances of it."""
    from ..audio.analyze import analyze_speech
    from ..audio.io import load_audio
    from ..engines.interface import EngineRequest
    from ..engines.registry import EngineCache

    control = control or JobControl()
    options = options.validated()
    engines = engines or EngineCache()
    body_engine, face_engine = engines.get(options)  # checkpoints and styles load now: a bad one fails in seconds
    prompts = read_prompts(options.prompts) if options.prompts else None  # a bad file fails before the analysis
    flame_to_arkit = None
    if options.flame_to_arkit:
        from ..engines.emage.engine import load_flame_to_arkit
        flame_to_arkit = load_flame_to_arkit(options.flame_to_arkit)
    audio = load_audio(audio_path, control.sub(0.0, 0.05))
    analysis = analyze_speech(audio, options.transcript, options.language, control.sub(0.05, 0.6),
                              options.recognizer)
    if options.transcript and options.language == "other":
        analysis.warnings.append("the transcript is not used with language 'other' (acoustic mouth only); "
                                 "use language 'en' or 'auto' for transcript-timed lips")
    if audio.gain < 1.0:
        analysis.warnings.append(f"the recording peaks at {1 / audio.gain:.3g}× full scale; it was scaled down "
                                 "to full scale (not clipped) for analysis")
    dense_prompts = None
    if prompts is not None:
        check_prompt_frames(prompts, analysis.n_frames, options.prompts)
        dense_prompts = prompts.dense(analysis.n_frames)  # once per job: every engine and take reads this
    takes = []
    per_take = 0.35 / options.takes
    for k in range(options.takes):
        start = 0.6 + k * per_take
        face_rng, body_rng = take_rng(options.seed, k + 1).spawn(2)
        request = EngineRequest(analysis, options.emotion, options.intensity, face_rng,
                                control.sub(start, start + per_take / 2), take=k + 1, prompts=dense_prompts,
                                speaker=options.speaker, face_style=options.face_style)
        request.control.report(0.0, f"take {k + 1}: face")
        arkit = face_engine.generate_face(request).arkit
        request = replace(request, rng=body_rng, control=control.sub(start + per_take / 2, start + per_take))
        request.control.report(0.0, f"take {k + 1}: body")
        body = body_engine.generate_body(request)
        poses, trans = body.poses, body.trans
        if body.expressions is not None and flame_to_arkit is not None:  # EMAGE: FLAME + jaw → ARKit curves
            from ..engines.emage.engine import face_from_flame
            arkit = face_from_flame(arkit, body.expressions, body.jaw, flame_to_arkit)
        if dense_prompts is not None:  # the one place prompts reach every engine's output
            poses, trans, arkit = apply_prompts(poses, trans, arkit, dense_prompts, analysis.fps)
        takes.append(assemble_performance(poses, trans, arkit, {
            "take": k + 1, "seed": options.seed, "engine": body_engine.name, "face_engine": face_engine.name}))
        if body.expressions is not None:  # the body engine's own FLAME expressions go to motion.npz `expressions`
            takes[-1].expressions = np.asarray(body.expressions, np.float32)
    return Generation(Path(audio_path), audio.duration, analysis, takes)


def prepare_output_dir(out_dir: str | Path) -> Path:
    """Create the output folder (absolute, `~` expanded) and prove it writable, or fail with one line,
    before any expensive work."""
    text = os.fspath(out_dir)
    if not text.strip():
        raise UserError("the output folder is empty: give one with -o FOLDER")
    if "\x00" in text:
        raise UserError("the output folder name contains a NUL character")
    out_dir = Path(os.path.abspath(os.path.expanduser(text)))
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"output folder {out_dir} is a file — choose a folder with -o")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir, prefix=".orator-write-test-"):
            pass
    except OSError as exc:
        raise UserError(f"cannot write into output folder {out_dir}: {exc.strerror or exc} — "
                        "choose another folder with -o") from None
    return out_dir


RESULT_FILES = ("motion.npz", "face_arkit.csv", "motion.bvh")


def clear_previous_result(out_dir: Path) -> None:
    """Remove what an earlier run wrote here (its summary first, so a half-replaced folder is never 'finished'):
    the files its summary lists, every take_N/ result and stale temp files from a killed run.
    Files Orator did not write are left alone."""
    (out_dir / SUMMARY_NAME).unlink(missing_ok=True)
    folders = [out_dir] + sorted(p for p in out_dir.glob("take_*") if p.is_dir() and p.name[5:].isdigit())
    for folder in folders:
        for name in RESULT_FILES:
            (folder / name).unlink(missing_ok=True)
        for stale in folder.glob(".*-*"):
            if stale.is_file() and any(stale.name.startswith(f".{Path(n).stem}-") and stale.suffix == Path(n).suffix
                                       for n in RESULT_FILES + (SUMMARY_NAME,)):
                stale.unlink(missing_ok=True)
        if folder is not out_dir:
            try:
                folder.rmdir()  # only when empty: a user's own file keeps it
            except OSError:
                pass


def take_dir(out_dir: Path, take: int, takes: int) -> Path:
    """One take writes straight into out_dir; several go to out_dir/take_1, take_2, …"""
    return out_dir if takes == 1 else out_dir / f"take_{take}"


def write_generation(gen: Generation, out_dir: str | Path, options: GenerateOptions,
                     control: JobControl | None = None, started: float | None = None) -> GenerationSummary:
    """Write each take's motion.npz + face_arkit.csv (+ motion.bvh), then summary.json; return the summary."""
    control = control or JobControl()
    out_dir = prepare_output_dir(out_dir)
    flame = load_arkit_to_flame(options.arkit_to_flame) if options.arkit_to_flame else None
    from ..formats.hand_pose import HAND_MEAN_STAND_IN, read_hand_mean
    npz_hand_mean = read_hand_mean(options.smplx_model) if options.smplx_model else None
    hand_mean_source = f"smplx model {Path(options.smplx_model).name}" if options.smplx_model else HAND_MEAN_STAND_IN
    hand_mean = None
    if options.bvh:
        from ..formats.hand_pose import MEAN_RELAXED_HAND
        hand_mean = MEAN_RELAXED_HAND
    take_entries = []
    # the engine's own FLAME face (EMAGE) wins over a mapping of ARKit
    expressions_of = [perf.expressions if perf.expressions is not None
                      else perf.arkit @ flame if flame is not None else None for perf in gen.takes]
    for perf, expressions in zip(gen.takes, expressions_of):  # every take checked before the first file
        check_finite(perf, expressions)
    clear_previous_result(out_dir)  # a re-run replaces the whole earlier result, never mixes with it
    for perf, expressions in zip(gen.takes, expressions_of):
        control.check()
        k = perf.meta["take"]
        folder = take_dir(out_dir, k, len(gen.takes))
        motion = write_motion_npz(folder / "motion.npz", perf.poses, perf.trans, perf.arkit,
                                  expressions=expressions, fps=perf.fps,
                                  hand_mean=npz_hand_mean, hand_mean_source=hand_mean_source)
        face_csv = write_livelink_csv(folder / "face_arkit.csv", perf.arkit, head_and_eye_angles(perf.poses),
                                      fps=perf.fps)
        face_format_csv = bvh = None
        if options.face_format != "arkit":
            from ..formats.face_formats import face_curves, write_face_csv
            face_format_csv = str(write_face_csv(folder / f"face_{options.face_format}.csv",
                                                 *face_curves(perf.arkit, options.face_format), perf.fps))
        if options.bvh:
            bvh = str(write_bvh(folder / "motion.bvh", perf.poses, perf.trans, perf.fps, hand_mean))
        take_entries.append(TakeFiles(k, str(motion), str(face_csv), face_format_csv, bvh))
    a = gen.analysis
    summary = GenerationSummary(
        orator_version=__version__, audio=str(gen.audio_path), output_dir=str(out_dir),
        seconds=round(gen.duration, 4), frames=a.n_frames, fps=a.fps, engine=options.engine,
        face_engine=options.face_engine, seed=options.seed, emotion=options.emotion, intensity=options.intensity,
        hand_mean=hand_mean_source, phone_source=a.phone_source,
        lip_timing=describe_phone_timing(a.phone_source, a.phone_spans),
        phone_count=sum(p.label != "SIL" for p in a.phones),
        phone_spans=tuple((round(t0, 2), round(t1, 2), how) for t0, t1, how in a.phone_spans),
        takes=tuple(take_entries), warnings=tuple(a.warnings),
        options={k: v for k, v in asdict(options).items() if k != "transcript"},
        elapsed_s=None if started is None else round(time.perf_counter() - started, 3))
    with atomic_write(out_dir / SUMMARY_NAME) as fh:
        json.dump(summary.to_json(), fh, indent=2)
    control.report(1.0, "done")
    return summary


def run_generate(audio_path: str | Path, out_dir: str | Path, options: GenerateOptions,
                 control: JobControl | None = None, engines=None) -> GenerationSummary:
    """Generate and write; returns the summary (what `--json` prints and the worker's `done` carries)."""
    started = time.perf_counter()
    control = control or JobControl()
    existed = Path(os.path.abspath(os.path.expanduser(os.fspath(out_dir)))).exists() if os.fspath(out_dir) else True
    out_dir = prepare_output_dir(out_dir)
    try:
        from ..audio.io import probe_audio
        probe_audio(audio_path)  # a damaged header fails before engines, checkpoints and prompts load
        if options.raw:  # EMAGE's own result as the official code writes it (backend/engines/emage/raw.py)
            from .emage_raw import run_raw
            return GenerationSummary.from_json(run_raw(audio_path, out_dir, out_dir / SUMMARY_NAME, options, control,
                                                       engines))
        if options.arkit_to_flame:
            load_arkit_to_flame(options.arkit_to_flame)  # a bad matrix fails now, not after the analysis
        gen = generate(audio_path, options, control.sub(0.0, 0.95), engines)
        try:
            return write_generation(gen, out_dir, options, control.sub(0.95, 1.0), started)
        except OSError as exc:  # the disk filled up or the folder turned read-only while we worked
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise UserError(f"cannot write the results into {out_dir}: {exc.strerror} — free some space or "
                            "choose another folder with -o") from None
    except BaseException:
        if not existed:  # a failed input leaves no empty folder behind
            try:
                out_dir.rmdir()
            except OSError:
                pass
        raise
