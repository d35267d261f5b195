"""`python -m backend batch`: every audio file in a folder, several processes, resumable.

One bad file never stops the batch; finished outputs (their summary.json exists and records the same
options) are skipped, outputs made with other options are redone. Both ways of running — local processes
here, Ray actors in batch_ray.py — run `batch_file.generate_file` per file and end in the same report and the same
manifest (MANIFEST_NAME in OUT, one row per input). Pool processes die with the batch (PR_SET_PDEATHSIG)
and ignore Ctrl-C: SIGINT/SIGTERM of the batch kill them and it exits 130 at once.
"""
from __future__ import annotations

import csv
import json
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import UserError
from ..fileio import atomic_write
from ..options import GenerateOptions
from ..subprocesses import die_with_parent
from ..summary import GenerationSummary
from .batch_file import FileRecord, generate_file

if TYPE_CHECKING:
    from .batch_ray import RaySettings

MANIFEST_NAME = "manifest.csv"  # OUT/manifest.csv: every input of the last run, opens in any spreadsheet
MANIFEST_FIELDS = ("audio", "output", "status", "seconds", "elapsed_s", "cpu_s", "attempts", "worker", "warnings",
                   "error", "log")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64")


@dataclass(frozen=True)
class BatchReport:
    """What one `batch` run did: what `batch --json` prints (to_json, keys in this order). `failures` are the
    failed files' records, sorted by audio path."""

    input_dir: str
    output_dir: str
    files: int        # audio files found
    done: int         # generated in this run (redone ones included)
    skipped: int      # finished earlier with the same options
    redone: int       # finished earlier with other options, generated again
    failed: int
    failures: tuple[FileRecord, ...]
    manifest: str     # OUT/manifest.csv
    elapsed_s: float

    def to_json(self) -> dict:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["failures"] = [record.to_json() for record in self.failures]
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "BatchReport":
        return cls(**{**obj, "failures": tuple(FileRecord.from_json(r) for r in obj["failures"])})


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
        return GenerationSummary.read(target).options
    except (OSError, ValueError):  # SummaryError is a ValueError
        return None


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


def skipped_record(audio: Path, target: Path) -> FileRecord:
    """A finished output from an earlier run, as a manifest row (seconds and warnings from its summary)."""
    record = FileRecord(str(audio), str(target), "skipped")
    try:
        summary = GenerationSummary.read(target)
    except (OSError, ValueError):
        return record  # the summary exists (that is what "finished" means); an unreadable one only loses columns
    return replace(record, seconds=summary.seconds, elapsed_s=summary.elapsed_s, warnings=summary.warnings)


def write_manifest(out_dir: Path, records: list[FileRecord]) -> Path:
    """OUT/manifest.csv, one row per input sorted by path; warnings joined with ' | '. Written atomically."""
    path = out_dir / MANIFEST_NAME
    try:
        with atomic_write(path) as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, extrasaction="ignore")
            writer.writeheader()
            for record in sorted(records, key=lambda r: r.audio):
                row = {k: getattr(record, k) for k in MANIFEST_FIELDS}
                row["warnings"] = " | ".join(record.warnings)
                if record.attempts is None:
                    row["attempts"] = 1 if record.status != "skipped" else ""
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
    except OSError as exc:
        raise UserError(f"cannot write the batch manifest {path}: {exc.strerror or exc}") from None
    return path


def describe(record: FileRecord) -> str:
    """One line per finished file for people (stderr, above the progress bar)."""
    detail = record.error if record.error is not None else f"{record.seconds or 0:.1f} s of audio"
    return f"{record.status}: {record.audio} ({detail})"


def run_batch(in_dir: Path, out_dir: Path, options: GenerateOptions, workers: int = 1,
              sidecar_transcripts: bool = False, on_file: Callable[[str], None] | None = None,
              ray: RaySettings | None = None, on_start: Callable[[int], None] | None = None) -> BatchReport:
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
    from ..generation.pipeline import prepare_output_dir
    out_dir = prepare_output_dir(out_dir)  # unwritable: one line now, not one failure per file
    todo, skipped, redone, finished = [], 0, 0, []
    wanted = comparable(options)
    for audio, target in output_folders(out_dir, in_dir, files).items():
        recorded = recorded_options(target)
        if recorded is not None:
            if recorded == wanted:
                skipped += 1
                finished.append(skipped_record(audio, target))
                continue
            redone += 1  # made with other options: generate replaces that result
        opts = options
        if sidecar_transcripts:
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
        pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context,
                                   initializer=_pool_process_init, initargs=(os.getpid(),))
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
        try:
            futures = [pool.submit(generate_file, *item) for item in todo]
            for future in as_completed(futures):
                record = future.result()
                results.append(record)
                if on_file is not None:
                    on_file(describe(record))
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
    manifest = write_manifest(out_dir, finished + results)
    failures = sorted((r for r in results if r.status == "failed"), key=lambda r: r.audio)
    return BatchReport(input_dir=str(in_dir), output_dir=str(out_dir), files=len(files),
                       done=sum(r.status == "done" for r in results), skipped=skipped, redone=redone,
                       failed=len(failures), failures=tuple(failures), manifest=str(manifest),
                       elapsed_s=round(time.perf_counter() - started, 3))
