"""backend.formats.ljspeech: the one reader of LJSpeech's metadata.csv (tests, benchmarks and trainers use it)."""
from __future__ import annotations

from backend.formats.ljspeech import read_ljspeech_transcripts


def test_written_and_normalised_columns_and_short_lines(tmp_path):
    meta = tmp_path / "metadata.csv"
    meta.write_text("LJ-1|In 1905, Mr. Ö|in nineteen oh five, mister Ö\nbroken line\nLJ-2|a|b\n\n", encoding="utf-8")
    assert read_ljspeech_transcripts(meta) == {"LJ-1": "in nineteen oh five, mister Ö", "LJ-2": "b"}
    assert read_ljspeech_transcripts(meta, written=True) == {"LJ-1": "In 1905, Mr. Ö", "LJ-2": "a"}


def test_the_shared_metadata_names_clips_that_exist(shared_dir):
    folder = shared_dir / "data" / "speech" / "ljspeech"
    texts = read_ljspeech_transcripts(folder / "metadata.csv")
    assert len(texts) >= 8 and all((folder / f"{cid}.wav").is_file() and text for cid, text in texts.items())
