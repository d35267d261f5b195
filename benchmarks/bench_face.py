"""Neural face numbers for FACE_MODEL.md: personalisation on held-out FACEGOOD, lip closure on LJSpeech,
jitter, speed.

    .venv/bin/python benchmarks/bench_face.py --generic backend/checkpoints/face_generic.pt \
        --english-only /tmp/english_only.pt [--json out.json]

Personalisation protocol (honest): the English-only model never saw FACEGOOD; it is personalised on
FACEGOOD clip 4 and evaluated on clip 5 against the generic (default style) prediction. The shipped
model saw clips 1–3 as style 1; its clip-5 error with style 1 and after personalising on clip 4 is
reported too.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.audio.analyze import analyze_speech  # noqa: E402
from backend.audio.io import load_audio  # noqa: E402
from backend.engines.builtin.face import generate_face  # noqa: E402
from backend.formats.ljspeech import read_ljspeech_transcripts  # noqa: E402
from backend.engines.neural_face.channels import SPEECH_INDEX, load_facegood_clip  # noqa: E402
from backend.engines.neural_face.engine import NeuralFaceEngine, compose_face  # noqa: E402
from backend.engines.neural_face.personalize import personalize_from_files  # noqa: E402
from backend.metrics.face import bilabial_closure_rate, jitter  # noqa: E402

SHARED = REPO.parent / "shared"
FG = SHARED / "data" / "face" / "facegood"
LJ = SHARED / "data" / "speech" / "ljspeech"


def facegood_mouth(clip: str) -> tuple[Path, np.ndarray, np.ndarray]:
    wav, arkit = load_facegood_clip(FG, clip)
    audio = load_audio(wav)
    n = min(len(arkit), int(round(audio.duration * 30)))
    return wav, audio.samples, arkit[:n]


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def personalisation_numbers(checkpoint: Path, style_id: int | None, tmp: Path) -> dict:
    gen = NeuralFaceEngine(checkpoint)
    wav4, _, arkit4 = facegood_mouth("1114_2_04")
    ref = tmp / "clip4.npz"
    np.savez(ref, arkit=arkit4)
    style_path, report = personalize_from_files(wav4, ref, tmp / f"{checkpoint.stem}.orstyle", checkpoint)
    _, samples5, arkit5 = facegood_mouth("1114_2_05")
    target = arkit5[:, SPEECH_INDEX]
    generic = gen.mouth(samples5, len(target))
    out = {"checkpoint": checkpoint.name, "fit_on_clip4": report,
           "clip5_mse_generic_default_style": mse(generic, target),
           "clip5_mse_personalised": mse(gen.mouth(samples5, len(target), gen.style(style_path)), target),
           "clip5_mse_zero_mouth": mse(np.zeros_like(target), target),
           "clip5_mse_mean_of_clip4": mse(np.broadcast_to(arkit4[:, SPEECH_INDEX].mean(0), target.shape), target)}
    if style_id is not None:
        m = gen.model
        with torch.no_grad():
            from backend.engines.neural_face.features import motion_rate_log_mel
            x = torch.from_numpy(motion_rate_log_mel(samples5, len(target)))[None]
            pred = m(x, torch.tensor([style_id]))[0].clamp(0, 1).numpy()
        out["clip5_mse_trained_style"] = mse(pred, target)
    out["improvement_vs_generic"] = 1.0 - out["clip5_mse_personalised"] / out["clip5_mse_generic_default_style"]
    # stage-1-only style (no basis refinement) on clip 5
    style = gen.style(style_path)
    from backend.engines.neural_face.personalize import FaceStyle
    emb_only = FaceStyle(style.embedding, torch.zeros_like(style.basis_weight_delta),
                         torch.zeros_like(style.basis_bias_delta), {})
    out["clip5_mse_embedding_only"] = mse(gen.mouth(samples5, len(target), emb_only), target)
    return out


def personalisation_speed(checkpoint: Path, tmp: Path) -> float:
    """Seconds to personalise from 60 s of reference (FACEGOOD clip 4, first 60 s)."""
    import soundfile as sf
    wav4, samples4, arkit4 = facegood_mouth("1114_2_04")
    sf.write(tmp / "ref60.wav", samples4[:60 * 16000], 16000)
    np.savez(tmp / "ref60.npz", arkit=arkit4[:1800])
    t = time.perf_counter()
    personalize_from_files(tmp / "ref60.wav", tmp / "ref60.npz", tmp / "ref60.orstyle", checkpoint)
    return time.perf_counter() - t


def lj_numbers(checkpoint: Path, heldout: set[str]) -> dict:
    gen = NeuralFaceEngine(checkpoint)
    rows = []
    for clip_id, text in read_ljspeech_transcripts(LJ / "metadata.csv").items():
        audio = load_audio(LJ / f"{clip_id}.wav")
        analysis = analyze_speech(audio, text, "en")
        base = generate_face(analysis, "neutral", 0.5, np.random.default_rng(0))
        mouth = gen.mouth(audio.samples, analysis.n_frames)
        raw = base.copy()
        raw[:, SPEECH_INDEX] = mouth
        sealed = compose_face(mouth, base, "neutral", 0.5, analysis.phones)
        rows.append({"clip": clip_id, "heldout": clip_id in heldout,
                     "closure_raw": bilabial_closure_rate(raw, analysis.phones),
                     "closure_sealed": bilabial_closure_rate(sealed, analysis.phones),
                     "closure_builtin": bilabial_closure_rate(base, analysis.phones),
                     "bilabials": sum(p.label in ("P", "B", "M") for p in analysis.phones),
                     "mse_vs_builtin": mse(mouth, base[:, SPEECH_INDEX]),
                     "jitter_neural": float(np.mean(jitter(sealed[:, SPEECH_INDEX]))),
                     "jitter_builtin": float(np.mean(jitter(base[:, SPEECH_INDEX])))})

    def pooled(key: str, subset) -> float:
        sel = [r for r in rows if subset(r)]
        n = sum(r["bilabials"] for r in sel)
        return sum(r[key] * r["bilabials"] for r in sel) / n

    summary = {}
    for name, subset in (("all", lambda r: True), ("heldout", lambda r: r["heldout"]),
                         ("seen", lambda r: not r["heldout"])):
        summary[name] = {k: pooled(k, subset) for k in ("closure_raw", "closure_sealed", "closure_builtin")}
        sel = [r for r in rows if subset(r)]
        summary[name]["mse_vs_builtin"] = float(np.mean([r["mse_vs_builtin"] for r in sel]))
        summary[name]["jitter_neural"] = float(np.mean([r["jitter_neural"] for r in sel]))
        summary[name]["jitter_builtin"] = float(np.mean([r["jitter_builtin"] for r in sel]))
        summary[name]["bilabials"] = sum(r["bilabials"] for r in sel)
    return {"per_clip": rows, "summary": summary}


def inference_speed(checkpoint: Path) -> dict:
    gen = NeuralFaceEngine(checkpoint)
    _, samples, _ = facegood_mouth("1114_2_05")
    x = samples[:60 * 16000]
    gen.mouth(x, 1800)
    t = time.perf_counter()
    for _ in range(3):
        gen.mouth(x, 1800)
    per60 = (time.perf_counter() - t) / 3
    long = np.tile(samples, 6)[: 600 * 16000]  # 10 minutes
    t = time.perf_counter()
    gen.mouth(long, 600 * 30)
    return {"seconds_per_60s_audio": per60, "seconds_per_600s_audio": time.perf_counter() - t,
            "threads": torch.get_num_threads()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generic", default=str(REPO / "backend" / "checkpoints" / "face_generic.pt"))
    ap.add_argument("--english-only", required=True)
    ap.add_argument("--heldout", default="LJ001-0006,LJ001-0007,LJ001-0008")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result = {
            "personalise_english_only": personalisation_numbers(Path(args.english_only), None, tmp),
            "personalise_shipped": personalisation_numbers(Path(args.generic), 1, tmp),
            "personalise_60s_seconds": personalisation_speed(Path(args.generic), tmp),
            "ljspeech": lj_numbers(Path(args.generic), set(args.heldout.split(","))),
            "speed": inference_speed(Path(args.generic)),
        }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
