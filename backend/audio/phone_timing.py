"""What every phone source returns (PhoneResult) and the tidying all of them end with."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis import Phone


@dataclass
class PhoneResult:
    phones: list[Phone]
    source: str               # 'transcript' (forced alignment) | 'recognized' | 'acoustic'
    confidence: float
    warnings: list[str] = field(default_factory=list)
    language: str = "en"
    spans: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, 'forced alignment' |
    #                                                                      'word recognition' | 'phone recognition')


def describe_phone_timing(source: str, spans: list[tuple[float, float, str]]) -> str:
    """How the lips were timed, in words, for the summary a user reads ('phone_source' stays the short key
    scripts compare: 'transcript' | 'recognized' | 'acoustic').

    'forced alignment of the transcript' when every stretch was aligned; otherwise the other methods with
    their time ranges: 'forced alignment of the transcript; word recognition 12.3–15.1 s'.
    """
    if source == "acoustic" or not spans:
        return "acoustic mouth (no phone timing)"
    methods = list(dict.fromkeys(m for _, _, m in spans))
    if source != "transcript":
        return " + ".join(methods)
    others = [f"{m} {a:.1f}–{b:.1f} s" for a, b, m in spans if m != "forced alignment"]
    return "; ".join(["forced alignment of the transcript"] + others)


def tidy_phones(phones: list[Phone], duration: float) -> list[Phone]:
    """Merge adjacent SILs, close tiny gaps, and pad the clip with SIL so phones cover 0..duration."""
    out: list[Phone] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start):
        start, end = max(p.start, t), min(p.end, duration)
        if end <= start:
            continue
        if start - t > 0.035:
            out.append(Phone("SIL", t, start))
        elif out and start > t:
            prev = out[-1]
            out[-1] = Phone(prev.label, prev.start, start, prev.stress, prev.word)
        elif not out:
            start = 0.0
        out.append(Phone(p.label, start, end, p.stress, p.word))
        t = end
    if duration - t > 1e-6:
        out.append(Phone("SIL", t, duration))
    merged: list[Phone] = []
    for p in out:
        if merged and p.label == "SIL" and merged[-1].label == "SIL":
            merged[-1] = Phone("SIL", merged[-1].start, p.end)
        else:
            merged.append(p)
    return merged
