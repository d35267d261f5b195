"""One batch input's work and outcome, shared by the local batch (batch.py) and the Ray actors
(batch_ray.py), so neither of them imports the other for it."""
from __future__ import annotations

import time
from dataclasses import dataclass, fields

from ..errors import UserError
from ..options import GenerateOptions
from .crash_log import write_crash_log


@dataclass(frozen=True)
class FileRecord:
    """One input's outcome: a manifest row, and in the report for a failed file. Unset fields stay None
    (empty in the manifest, left out of `batch --json`)."""

    audio: str
    output: str
    status: str                        # "done" | "skipped" | "failed"
    seconds: float | None = None       # audio length
    elapsed_s: float | None = None     # wall time of its generation
    cpu_s: float | None = None         # CPU time of the per-file work
    warnings: tuple[str, ...] = ()
    error: str | None = None           # failed: the one-line reason
    log: str | None = None             # failed with an internal error: its crash log
    worker: str | None = None          # Ray: host:pid of the process that made it
    attempts: int | None = None        # Ray: processes it took (a killed worker makes it retry)

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "warnings":
                if value:
                    out["warnings"] = list(value)
            elif value is not None:
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "FileRecord":
        return cls(**{**obj, "warnings": tuple(obj.get("warnings") or ())})



def generate_file(audio: str, out_dir: str, options: GenerateOptions, engines=None) -> FileRecord:
    """Runs in a child process or a Ray actor (which passes its EngineCache, so engines load once per
    process). Returns a status record instead of raising, so the batch goes on."""
    from ..generation.pipeline import run_generate

    cpu = time.process_time()
    try:
        summary = run_generate(audio, out_dir, options, engines=engines)
        return FileRecord(audio, out_dir, "done", seconds=summary.seconds, elapsed_s=summary.elapsed_s,
                          cpu_s=round(time.process_time() - cpu, 3), warnings=summary.warnings)
    except UserError as exc:
        return FileRecord(audio, out_dir, "failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        log = write_crash_log(exc)
        return FileRecord(audio, out_dir, "failed", error=f"internal error {exc.__class__.__name__}: {exc}",
                          log=str(log))
