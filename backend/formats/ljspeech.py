"""LJSpeech's `metadata.csv`: one clip a line, `id|text as written|normalised text` (UTF-8, no header).

The one reader of it: the face trainer, the body trainer, the tests and the benchmarks all take their
transcripts from here.
"""
from __future__ import annotations

from pathlib import Path


def read_ljspeech_transcripts(metadata_csv: str | Path, written: bool = False) -> dict[str, str]:
    """Clip id → its normalised transcript (numbers spelt out), or with written=True the text as written
    (digits, punctuation and casing kept). Lines with fewer than three fields are skipped."""
    out = {}
    for line in Path(metadata_csv).read_text(encoding="utf-8").splitlines():
        parts = line.split("|")
        if len(parts) >= 3:
            out[parts[0]] = parts[1 if written else 2]
    return out
