"""`python -m backend batch`: every audio file in a folder, several processes, resumable.

One bad file never stops the batch; finished outputs (their summary.json exists) are skipped.
"""
from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from .errors import UserError
from .options import GenerateOptions
from .pipeline import SUMMARY_NAME

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64")


def find_audio_files(folder: Path) -> list[Path]:
    """Audio files directly in `folder` or below, sorted for a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def output_folder(out_root: Path, in_root: Path, audio: Path) -> Path:
    """IN/a/b.wav → OUT/a/b (keeps sub-folders apart so equal names do not collide)."""
    return out_root / audio.relative_to(in_root).with_suffix("")


def sidecar_transcript(audio: Path) -> str | None:
    for suffix in (".txt", ".lab"):
        path = audio.with_suffix(suffix)
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace").strip() or None
    return None


def _generate_one(audio: str, out_dir: str, options: GenerateOptions) -> dict:
    """Runs in a child process. Returns a status record instead of raising, so the batch goes on."""
    from .cli import write_crash_log
    from .pipeline import run_generate

    try:
        summary = run_generate(audio, out_dir, options)
        return {"audio": audio, "status": "done", "seconds": summary["seconds"],
                "elapsed_s": summary.get("elapsed_s")}
    except UserError as exc:
        return {"audio": audio, "status": "failed", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        log = write_crash_log(exc)
        return {"audio": audio, "status": "failed", "error": f"internal error {exc.__class__.__name__}: {exc}",
                "log": str(log)}


def run_batch(in_dir: Path, out_dir: Path, options: GenerateOptions, workers: int = 1,
              sidecar_transcripts: bool = False, on_file: Callable[[str], None] | None = None) -> dict:
    """Generate for every audio file under in_dir; returns a report with counts and failures."""
    started = time.perf_counter()
    if not in_dir.is_dir():
        raise UserError(f"input folder not found: {in_dir}")
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    files = find_audio_files(in_dir)
    if not files:
        raise UserError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {in_dir}")
    options = options.validated()
    todo, skipped = [], 0
    for audio in files:
        target = output_folder(out_dir, in_dir, audio)
        if (target / SUMMARY_NAME).is_file():
            skipped += 1
            continue
        opts = options
        if sidecar_transcripts:
            from dataclasses import replace
            opts = replace(options, transcript=sidecar_transcript(audio))
        todo.append((str(audio), str(target), opts))
    results = []
    if todo:
        context = multiprocessing.get_context("spawn")  # no forked threads or locks from the parent
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
            futures = [pool.submit(_generate_one, *item) for item in todo]
            for future in as_completed(futures):
                record = future.result()
                results.append(record)
                if on_file is not None:
                    detail = record.get("error", f"{record.get('seconds', 0):.1f} s of audio")
                    on_file(f"{record['status']}: {record['audio']} ({detail})")
    failures = sorted((r for r in results if r["status"] == "failed"), key=lambda r: r["audio"])
    return {"input_dir": str(in_dir), "output_dir": str(out_dir), "files": len(files),
            "done": sum(r["status"] == "done" for r in results), "skipped": skipped,
            "failed": len(failures), "failures": failures,
            "elapsed_s": round(time.perf_counter() - started, 3)}
