"""`python -m backend batch`: every audio file in a folder, several processes, resumable.

One bad file never stops the batch; finished outputs (their summary.json exists) are skipped.
Both ways of running — local processes here, Ray actors in batch_ray.py — run `_generate_one` per file
and end in the same report and the same manifest (MANIFEST_NAME in OUT, one row per input).
"""
from __future__ import annotations

import csv
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import UserError
from .fileio import atomic_write
from .options import GenerateOptions
from .pipeline import SUMMARY_NAME

if TYPE_CHECKING:
    from .batch_ray import RaySettings

MANIFEST_NAME = "manifest.csv"  # OUT/manifest.csv: every input of the last run, opens in any spreadsheet
MANIFEST_FIELDS = ("audio", "output", "status", "seconds", "elapsed_s", "cpu_s", "attempts", "worker", "warnings",
                   "error", "log")
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


def _generate_one(audio: str, out_dir: str, options: GenerateOptions, engines=None) -> dict:
    """Runs in a child process or a Ray actor (which passes its EngineCache, so engines load once per
    process). Returns a status record instead of raising, so the batch goes on."""
    from .cli import write_crash_log
    from .pipeline import run_generate

    cpu = time.process_time()
    try:
        summary = run_generate(audio, out_dir, options, engines=engines)
        return {"audio": audio, "output": out_dir, "status": "done", "seconds": summary["seconds"],
                "elapsed_s": summary.get("elapsed_s"), "cpu_s": round(time.process_time() - cpu, 3),
                "warnings": summary["warnings"]}
    except UserError as exc:
        return {"audio": audio, "output": out_dir, "status": "failed", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        log = write_crash_log(exc)
        return {"audio": audio, "output": out_dir, "status": "failed",
                "error": f"internal error {exc.__class__.__name__}: {exc}", "log": str(log)}


def skipped_record(audio: Path, target: Path) -> dict:
    """A finished output from an earlier run, as a manifest row (seconds and warnings from its summary)."""
    record = {"audio": str(audio), "output": str(target), "status": "skipped"}
    try:
        summary = json.loads((target / SUMMARY_NAME).read_text(encoding="utf-8"))
        record.update(seconds=summary.get("seconds"), elapsed_s=summary.get("elapsed_s"),
                      warnings=summary.get("warnings", []))
    except (OSError, ValueError):
        pass  # the summary exists (that is what "finished" means); an unreadable one only loses these columns
    return record


def write_manifest(out_dir: Path, records: list[dict]) -> Path:
    """OUT/manifest.csv, one row per input sorted by path; warnings joined with ' | '. Written atomically."""
    path = out_dir / MANIFEST_NAME
    try:
        with atomic_write(path) as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, extrasaction="ignore")
            writer.writeheader()
            for record in sorted(records, key=lambda r: r["audio"]):
                row = {k: record.get(k, "") for k in MANIFEST_FIELDS}
                row["warnings"] = " | ".join(record.get("warnings") or [])
                row["attempts"] = record.get("attempts", 1 if record["status"] != "skipped" else "")
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
    except OSError as exc:
        raise UserError(f"cannot write the batch manifest {path}: {exc.strerror or exc}") from None
    return path


def describe(record: dict) -> str:
    """One line per finished file for people (stderr, above the progress bar)."""
    detail = record.get("error", f"{record.get('seconds', 0):.1f} s of audio")
    return f"{record['status']}: {record['audio']} ({detail})"


def run_batch(in_dir: Path, out_dir: Path, options: GenerateOptions, workers: int = 1,
              sidecar_transcripts: bool = False, on_file: Callable[[str], None] | None = None,
              ray: RaySettings | None = None, on_start: Callable[[int], None] | None = None) -> dict:
    """Generate for every audio file under in_dir; returns a report with counts and failures.

    ray: run the files on a Ray cluster (batch_ray.py) instead of local processes.
    on_start(n): called once with the number of files to generate (for a progress bar).
    """
    started = time.perf_counter()
    if not in_dir.is_dir():
        raise UserError(f"input folder not found: {in_dir}")
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    files = find_audio_files(in_dir)
    if not files:
        raise UserError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {in_dir}")
    options = options.validated()
    todo, skipped, finished = [], 0, []
    for audio in files:
        target = output_folder(out_dir, in_dir, audio)
        if (target / SUMMARY_NAME).is_file():
            skipped += 1
            finished.append(skipped_record(audio, target))
            continue
        opts = options
        if sidecar_transcripts:
            from dataclasses import replace
            opts = replace(options, transcript=sidecar_transcript(audio))
        todo.append((str(audio), str(target), opts))
    results = []
    if on_start is not None:
        on_start(len(todo))
    if todo and ray is not None:
        from .batch_ray import run_on_ray
        results = run_on_ray(todo, ray, on_record=None if on_file is None else lambda r: on_file(describe(r)))
    elif todo:
        context = multiprocessing.get_context("spawn")  # no forked threads or locks from the parent
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
            futures = [pool.submit(_generate_one, *item) for item in todo]
            for future in as_completed(futures):
                record = future.result()
                results.append(record)
                if on_file is not None:
                    on_file(describe(record))
    manifest = write_manifest(out_dir, finished + results)
    failures = sorted((r for r in results if r["status"] == "failed"), key=lambda r: r["audio"])
    return {"input_dir": str(in_dir), "output_dir": str(out_dir), "files": len(files),
            "done": sum(r["status"] == "done" for r in results), "skipped": skipped,
            "failed": len(failures), "failures": failures, "manifest": str(manifest),
            "elapsed_s": round(time.perf_counter() - started, 3)}
