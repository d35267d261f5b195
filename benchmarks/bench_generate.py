"""Benchmark: the whole `python -m backend generate` on real speech of 60 s and 10 min, default settings.

    .venv/bin/python benchmarks/bench_generate.py [--lengths 60 600] [--language auto] [--recognizer words]
                                                  [--transcript]

Inputs: LJSpeech sentences from ../shared joined with 0.15-0.6 s pauses (tests/audio/speech_material.py).
Each length runs `python -m backend generate` as a user does, in a fresh process; its CPU seconds (user +
system, children included: the forked second decoder counts) are divided by the audio length. The lips
are scored against the per-sentence forced alignment: the share of its p/b/m that have a p/b/m of the
generated analysis within 60 ms (the analysis is re-run in this process for the phones; the timing comes
from the generate process alone).
Goals (issue 10): ≤ 0.10 CPU s per s of audio without a transcript (aim 0.05), p/b/m hit rate ≥ 90 %.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.audio.speech_material import long_speech, write  # noqa: E402
from backend.summary import GenerationSummary  # noqa: E402


def cpu_of_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def generate(audio: Path, out: Path, language: str, recognizer: str, transcript: Path | None) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "backend", "generate", str(audio), "-o", str(out), "--json", "-q",
           "--language", language, "--recognizer", recognizer]
    if transcript is not None:
        cmd += ["--transcript-file", str(transcript)]
    before = cpu_of_children()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    cpu = cpu_of_children() - before
    if proc.returncode != 0:
        print(proc.stderr)
        raise SystemExit(proc.returncode)
    return GenerationSummary.from_json(json.loads(proc.stdout)), cpu


def hit_rate(speech, language: str, recognizer: str, transcript: str | None) -> tuple[int, int]:
    from backend.audio.analyze import analyze_speech
    from backend.audio.io import LoadedAudio
    from tests.audio.test_long_alignment import bilabial_hits, per_sentence_reference

    reference = per_sentence_reference(speech)
    a = analyze_speech(LoadedAudio(speech.samples, 16000, 16000, 1, "WAV PCM_16"), transcript, language,
                       recognizer=recognizer)
    return bilabial_hits(a.phones, reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--language", default="auto")
    parser.add_argument("--recognizer", default="words", choices=("words", "phones"))
    parser.add_argument("--transcript", action="store_true", help="give the transcript (forced alignment)")
    parser.add_argument("--no-hits", action="store_true", help="skip the p/b/m scoring")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, python: {sys.executable}")
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.lengths:
            speech = long_speech(seconds)
            audio = write(speech, Path(tmp) / f"speech_{int(seconds)}.wav")
            text = None
            if args.transcript:
                text = Path(tmp) / f"speech_{int(seconds)}.txt"
                text.write_text(speech.transcript(), encoding="utf-8")
            summary, cpu = generate(audio, Path(tmp) / "out", args.language, args.recognizer, text)
            line = (f"{speech.duration:7.1f} s audio: {cpu:7.2f} CPU s = {cpu / speech.duration:.3f} CPU s per s "
                    f"of audio ({summary.elapsed_s or 0:.1f} s wall, peak RSS so far "
                    f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB), "
                    f"lip timing: {summary.lip_timing}")
            if not args.no_hits:
                hits, total = hit_rate(speech, args.language, args.recognizer,
                                       speech.transcript() if args.transcript else None)
                line += f", p/b/m within 60 ms of the per-sentence alignment: {hits}/{total} = {hits / total:.1%}"
            print(line, flush=True)
            if summary.warnings:
                print("   warnings:", "; ".join(summary.warnings))


if __name__ == "__main__":
    main()
