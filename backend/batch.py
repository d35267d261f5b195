"""`python -m backend batch`: every audio file in a folder, several processes, resumable.

One bad file never stops the batch; finished outputs (their summary.json exists and records the same
options) are skipped, outputs made with other options are redone. Pool processes die with the batch
(PR_SET_PDEATHSIG) and ignore Ctrl-C: SIGINT/SIGTERM of the batch kill them and it exits 130 at once.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .errors import UserError
from .options import GenerateOptions
from .pipeline import SUMMARY_NAME
from .subprocesses import die_with_parent

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64")


def find_audio_files(folder: Path) -> list[Path]:
    """Audio files directly in `folder` or below, sorted for a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def output_folder(out_root: Path, in_root: Path, audio: Path) -> Path:
    """IN/a/b.wav → OUT/a/b (keeps sub-folders apart so equal names do not collide)."""
    return out_root / audio.relative_to(in_root).with_suffix("")


def output_folders(out_root: Path, in_root: Path, files: list[Path]) -> dict[Path, Path]:
    """Each input's own output folder: OUT/a/b, or OUT/a/b.wav when another input would also map to OUT/a/b
    (a.wav + a.flac, or a.wav beside an input sub-folder a/)."""
    plain = {audio: output_folder(out_root, in_root, audio) for audio in files}
    taken: dict[Path, int] = {}
    for folder in plain.values():
        taken[folder] = taken.get(folder, 0) + 1
    parents = {parent for folder in plain.values() for parent in folder.parents}
    return {audio: (out_root / audio.relative_to(in_root) if taken[folder] > 1 or folder in parents else folder)
            for audio, folder in plain.items()}


def recorded_options(target: Path) -> dict | None:
    """The options a finished output was made with (None: not finished, or not readable)."""
    try:
        with open(target / SUMMARY_NAME, encoding="utf-8") as fh:
            summary = json.load(fh)
    except (OSError, ValueError):
        return None
    options = summary.get("options") if isinstance(summary, dict) else None
    return options if isinstance(options, dict) else None


def comparable(options: GenerateOptions) -> dict:
    """The options as summary.json records them (JSON round trip, no transcript)."""
    return json.loads(json.dumps({k: v for k, v in asdict(options).items() if k != "transcript"}))


def _pool_process_init(parent: int) -> None:
    """Pool processes: die with the batch, leave Ctrl-C to it (it kills us and exits at once)."""
    die_with_parent(expected_parent=parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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
    from .pipeline import prepare_output_dir
    out_dir = prepare_output_dir(out_dir)  # unwritable: one line now, not one failure per file
    todo, skipped, redone = [], 0, 0
    wanted = comparable(options)
    for audio, target in output_folders(out_dir, in_dir, files).items():
        recorded = recorded_options(target)
        if recorded is not None:
            if recorded == wanted:
                skipped += 1
                continue
            redone += 1  # made with other options: generate replaces that result
        opts = options
        if sidecar_transcripts:
            from dataclasses import replace
            opts = replace(options, transcript=sidecar_transcript(audio))
        todo.append((str(audio), str(target), opts))
    results = []
    if todo:
        context = multiprocessing.get_context("spawn")  # no forked threads or locks from the parent
        pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context,
                                   initializer=_pool_process_init, initargs=(os.getpid(),))
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
        try:
            futures = [pool.submit(_generate_one, *item) for item in todo]
            for future in as_completed(futures):
                record = future.result()
                results.append(record)
                if on_file is not None:
                    detail = record.get("error", f"{record.get('seconds', 0):.1f} s of audio")
                    on_file(f"{record['status']}: {record['audio']} ({detail})")
        except BaseException:  # Ctrl-C, SIGTERM, a broken pool: stop every pool process now
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.kill()
            for process in processes:
                process.join(5)
            raise
        else:
            pool.shutdown(wait=True)
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)
    failures = sorted((r for r in results if r["status"] == "failed"), key=lambda r: r["audio"])
    return {"input_dir": str(in_dir), "output_dir": str(out_dir), "files": len(files),
            "done": sum(r["status"] == "done" for r in results), "skipped": skipped, "redone": redone,
            "failed": len(failures), "failures": failures,
            "elapsed_s": round(time.perf_counter() - started, 3)}
