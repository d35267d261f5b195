"""Batch output names and reruns (issue 19, item 6): no input's result overwrites another's, no rerun skips silently."""
from __future__ import annotations


import numpy as np
import soundfile as sf

from backend.app.batch import output_folders, run_batch
from backend.summary import GenerationSummary
from backend.options import GenerateOptions


def test_same_stem_inputs_get_their_own_folders(tmp_path):
    files = [tmp_path / "in" / n for n in ("a.flac", "a.wav", "b.wav", "a/c.wav")]
    names = {p.relative_to(tmp_path / "in").as_posix(): f.relative_to(tmp_path / "o").as_posix()
             for p, f in output_folders(tmp_path / "o", tmp_path / "in", files).items()}
    assert names == {"a.flac": "a.flac", "a.wav": "a.wav", "b.wav": "b", "a/c.wav": "a/c"}


def test_reruns_with_other_options_are_redone(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    sf.write(str(src / "a.wav"), x, 16000)
    sf.write(str(src / "a.flac"), x[::-1].copy(), 16000)
    options = GenerateOptions(language="other")
    first = run_batch(src, tmp_path / "o", options, workers=1)
    assert (first.done, first.skipped, first.failed) == (2, 0, 0), first
    summaries = {GenerationSummary.read(tmp_path / "o" / n).audio for n in ("a.wav", "a.flac")}
    assert summaries == {str(src / "a.wav"), str(src / "a.flac")}
    again = run_batch(src, tmp_path / "o", options, workers=1)
    assert (again.done, again.skipped) == (0, 2)
    other = run_batch(src, tmp_path / "o", GenerateOptions(language="other", seed=5), workers=1)
    assert (other.done, other.redone, other.skipped) == (2, 2, 0), other
    assert GenerationSummary.read(tmp_path / "o" / "a.wav").seed == 5
