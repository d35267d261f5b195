"""`python -m backend evaluate`: generate with each body engine over a BEAT2-layout folder's audio and score
the takes against the folder's real motion (the measures: metrics/evaluate.py). Above both engines and
metrics, so neither imports the other."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..metrics.body import beat_consistency, jitter, upper_body_angular_speed
from ..metrics.evaluate import (EngineScores, EvaluationSettings, frechet_distance, l1_diversity, mean_or_nan,
                                pose_features, rot6d_windows, take_variance, train_fgd_encoder)
from ..motion.kinematics import forward_kinematics
from ..vocabulary.rates import AUDIO_RATE, MOTION_FPS


def default_mean_speed_path() -> Path:
    from ..paths import default_shared_dir
    return default_shared_dir() / "data" / "beat2_mean_joint_speed.npy"


def evaluate_folder(data_dir: Path, engines: tuple[str, ...], settings: EvaluationSettings = EvaluationSettings(),
                    checkpoint: str | None = None, device: str = "auto", mean_speed_path: Path | None = None,
                    log: Callable[[str], None] | None = None) -> dict:
    """Generate with each engine over each clip's audio and score against the clips' real motion."""
    from ..audio.analyze import analyze_speech
    from ..audio.io import LoadedAudio
    from ..engines.neural_body.beat2 import read_beat2_folder
    from ..engines.interface import EngineRequest
    from ..engines.registry import BODY_ENGINES, EngineCache
    from ..errors import UserError
    from ..options import GenerateOptions
    from ..generation.pipeline import take_rng
    from ..progress import JobControl

    mean_speed = np.load(mean_speed_path or default_mean_speed_path(), allow_pickle=False)
    clips = read_beat2_folder(data_dir)
    unknown = [e for e in engines if e not in BODY_ENGINES]
    if unknown:
        raise UserError(f"unknown engine(s) {', '.join(unknown)}: choose from {', '.join(BODY_ENGINES)}")
    options = {e: GenerateOptions(engine=e, device=device, seed=settings.seed,
                                  checkpoint=checkpoint if e == "neural" else None).validated() for e in engines}
    loaded = EngineCache()
    instances = {e: loaded.body(options[e]) for e in engines}
    real = EngineScores([], [], [], [], [], [])
    scores = {e: EngineScores([], [], [], [], [], []) for e in engines}
    analyses: dict[bytes, object] = {}
    for i, clip in enumerate(clips):
        key = clip.audio[:: max(1, len(clip.audio) // 4096)].tobytes()
        if key not in analyses:
            audio = LoadedAudio(clip.audio.astype(np.float32), AUDIO_RATE, AUDIO_RATE, 1, "array")
            analysis = analyze_speech(audio, None, "en")
            analysis.samples = audio.samples
            analyses[key] = analysis
        analysis = analyses[key]
        n = min(clip.n_frames, analysis.n_frames)
        _, pos = forward_kinematics(clip.poses[:n].astype(np.float64), clip.trans[:n].astype(np.float64))
        real.bc.append(beat_consistency(pos, analysis.onsets, MOTION_FPS, mean_speed))
        real.l1div.append(l1_diversity(pose_features(clip.poses[:n])))
        real.poses.append(clip.poses[:n])
        real.jitter.append(jitter(pos, MOTION_FPS))
        real.angular_speed.append(upper_body_angular_speed(clip.poses[:n], MOTION_FPS))
        for e in engines:
            takes = []
            for k in range(settings.takes):
                rng = take_rng(settings.seed, k + 1).spawn(2)[1]
                body = instances[e].generate_body(EngineRequest(analysis, options[e].emotion, options[e].intensity,
                                                                rng, JobControl()))
                poses, trans = body.poses, body.trans
                poses, trans = np.asarray(poses)[:n], np.asarray(trans)[:n]
                _, gpos = forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
                scores[e].bc.append(beat_consistency(gpos, analysis.onsets, MOTION_FPS, mean_speed))
                feats = pose_features(poses)
                scores[e].l1div.append(l1_diversity(feats))
                scores[e].poses.append(poses)
                scores[e].jitter.append(jitter(gpos, MOTION_FPS))
                scores[e].angular_speed.append(upper_body_angular_speed(poses, MOTION_FPS))
                takes.append(feats)
            scores[e].take_var.append(take_variance(takes))
        if log is not None:
            log(f"evaluated {i + 1}/{len(clips)}: {clip.name}")
    real_feats = [pose_features(p) for p in real.poses]
    rf = np.concatenate(real_feats)
    rv = np.concatenate([np.diff(x, axis=0) for x in real_feats])
    real_windows = rot6d_windows(real.poses)
    if len(real_windows) < 4:
        raise UserError("too little real motion to score: need clips of at least a few seconds")
    encode = train_fgd_encoder(real_windows, settings.fgd_steps, settings.fgd_latent, settings.seed)
    real_latent = encode(real_windows)
    half_a, half_b = real_feats[0::2], real_feats[1::2]
    floor = {}
    if half_b:
        fa, fb = np.concatenate(half_a), np.concatenate(half_b)
        wa, wb = rot6d_windows(real.poses[0::2]), rot6d_windows(real.poses[1::2])
        floor = {"FD_g": frechet_distance(fa, fb),
                 "FD_k": frechet_distance(np.concatenate([np.diff(x, axis=0) for x in half_a]),
                                          np.concatenate([np.diff(x, axis=0) for x in half_b])),
                 "FGD": frechet_distance(encode(wa), encode(wb)) if len(wa) > 2 and len(wb) > 2 else float("nan")}
    return {"data": str(data_dir), "clips": len(clips), "seconds": round(len(rf) / MOTION_FPS, 1),
            "takes": settings.takes, "checkpoint": checkpoint,
            "real": {"BC": mean_or_nan(real.bc), "L1div": mean_or_nan(real.l1div), "jitter": mean_or_nan(real.jitter),
                     "upper_rad_s": mean_or_nan(real.angular_speed)},
            "real_halves": floor,
            "engines": {e: s.summary(rf, rv, encode, real_latent) for e, s in scores.items()}}
