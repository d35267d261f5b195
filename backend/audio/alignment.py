"""Forced alignment of a transcript of any length: recognise, anchor, align chunk by chunk, fall back per chunk.

One alignment search over minutes of audio dies as soon as the transcript and the speech drift apart (a
sentence missing, a filler, fast speech), so:

1. the fast word recognition (recognition.recognize_phones) decodes every speech chunk;
2. the transcript words are matched to the recognised words (difflib), which anchors each transcript
   word to a piece of audio;
3. the audio is cut at pauses into pieces of at most ALIGN_CHUNK_S; a mismatch with ≥ UNSPOKEN_MIN_WORDS
   more recognised than transcript words (and under 0.4 as many written as heard) is a sentence said but not
   written: those recognised words' stretch is cut out and keeps them; the converse is a sentence written but
   not said: those transcript words are left out;
4. each piece is force-aligned with its words (narrow search, then wide); a piece that fails is re-anchored
   by aligning it together with the next piece and both pieces' words; a piece that still fails keeps the
   recognised words' phones, and the warning names its time range.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from ..analysis import Phone
from ..progress import JobControl
from .decoders import SR, shared_decoder, to_pcm16
from .forced_alignment import add_pronunciations, align_words
from .phone_timing import PhoneResult
from .recognition import ENGLISH_MAX_SCORE, chunk_bounds, recognition_confidence, recognize_phones, speech_coverage

# Anchoring recognition keeps the 10 s chunks the piece cutting and re-anchoring were measured with (the 6 s of
# recognition.MAX_CHUNK_S is tuned for lips without a transcript; not measured here).
ANCHOR_CHUNK_S = 10.0
ALIGN_CHUNK_S = 20.0          # aligned pieces are cut at pauses, at most this long
UNSPOKEN_MIN_WORDS = 5        # this many more words on one side of a mismatch are a sentence missing / not spoken
MIN_HEARD_SHARE = 0.25        # a transcript fewer of whose words than this were recognised is not this audio's
MIN_ALIGNED_COVERAGE = 0.6    # an alignment leaving more speech than this as SIL does not fit
CUT_PAD_S = 0.05              # margin kept on each side of a cut inside speech


@dataclass
class Piece:
    start: int                # samples at 16 kHz
    stop: int
    transcribed: bool = True  # False: speech the transcript lacks
    words: list[str] = field(default_factory=list)


def recognised_words(phones: list[Phone]) -> list[tuple[str, float, float]]:
    """(word, start, end) of each run of phones carrying the same word label."""
    out: list[tuple[str, float, float]] = []
    prev = None
    for p in phones:
        if p.label == "SIL" or not p.word:
            prev = None
            continue
        if prev is not None and p.word == prev and out and abs(out[-1][2] - p.start) < 0.02:
            out[-1] = (prev, out[-1][1], p.end)
        else:
            out.append((p.word, p.start, p.end))
        prev = p.word
    return out


def _best_drop(longer: list[str], shorter: list[str], drop: int) -> int:
    """Start of the `drop` consecutive words of `longer` whose removal leaves it most like `shorter`, compared
    letter by letter (misheard words still share letters: 'of fine typography' / 'off buying type')."""
    target = " ".join(shorter)

    def similarity(k: int) -> float:
        rest = " ".join(longer[:k] + longer[k + drop:])
        return difflib.SequenceMatcher(None, rest, target, autojunk=False).ratio()
    return max(range(len(longer) - drop + 1), key=lambda k: (similarity(k), -k))


def _lopsided(n: int, m: int) -> bool:
    """n written against m heard words: a whole sentence on one side, not recognition errors (which split
    or merge words: 'comparatively' → 'compared to flee')."""
    return abs(n - m) >= UNSPOKEN_MIN_WORDS and min(n, m) <= 0.4 * max(n, m)


ANCHOR_WINDOW = 40            # transcript words per window when anchoring near the expected place
ANCHOR_SLACK = 60             # recognised words either side of that place a window may match
ANCHOR_MIN_WORDS = 4          # a window's match must be this long to anchor


def _local_matching_blocks(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, size) of word lists a and b, in order, found near the diagonal first.

    One global difflib match pairs the longest common run wherever it is: a transcript that repeats a
    passage (5 min of joined LJSpeech says each sentence 1-2 times) then gets its second saying matched to
    the audio's first, and everything between reads as unspoken. So each ANCHOR_WINDOW of transcript words
    is matched only against the recognised words near where it should be (linear in position,
    ± ANCHOR_SLACK), those anchors are kept in order, and the stretches between them are matched as before.
    """
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    ratio = len(b) / max(len(a), 1)
    anchors: list[tuple[int, int, int]] = []
    for i0 in range(0, len(a), ANCHOR_WINDOW):
        i1 = min(i0 + ANCHOR_WINDOW, len(a))
        j0, j1 = max(0, int(i0 * ratio) - ANCHOR_SLACK), min(len(b), int(i1 * ratio) + ANCHOR_SLACK)
        m = sm.find_longest_match(i0, i1, j0, j1)
        last_a, last_b = (anchors[-1][0] + anchors[-1][2], anchors[-1][1] + anchors[-1][2]) if anchors else (0, 0)
        if m.size >= ANCHOR_MIN_WORDS and m.a >= last_a and m.b >= last_b:
            anchors.append((m.a, m.b, m.size))
    blocks: list[tuple[int, int, int]] = []
    pa = pb = 0
    for i, j, size in anchors + [(len(a), len(b), 0)]:
        between = difflib.SequenceMatcher(None, a[pa:i], b[pb:j], autojunk=False)
        blocks += [(pa + m.a, pb + m.b, m.size) for m in between.get_matching_blocks() if m.size]
        if size:
            blocks.append((i, j, size))
        pa, pb = i + size, j + size
    merged: list[tuple[int, int, int]] = []
    for i, j, size in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + size)
        else:
            merged.append((i, j, size))
    return merged


def _opcodes(blocks: list[tuple[int, int, int]], n: int, m: int) -> list[list]:
    """difflib-style opcodes [tag, i0, i1, j0, j1] over word lists of lengths n and m from ordered matching
    blocks (i, j, size)."""
    ops: list[list] = []
    i = j = 0
    for ai, bj, size in blocks + [(n, m, 0)]:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            ops.append([tag, i, ai, j, bj])
        if size:
            ops.append(["equal", ai, ai + size, bj, bj + size])
        i, j = ai + size, bj + size
    return ops


def match_words(words: list[str], heard: list[str]) -> tuple[list[int | None], list[tuple[int, int]],
                                                             list[tuple[int, int]]]:
    """Anchor transcript words on recognised ones.

    Returns: for each transcript word the index of the recognised word it sits on (None: between anchors),
    runs [i0, i1) of transcript words nobody said, runs [j0, j1) of recognised words the transcript lacks.
    A mismatch with ≥ UNSPOKEN_MIN_WORDS more words on one side than the other holds a sentence said but not
    written (or written but not said); chance matches of one or two words ('the') inside it are merged in.
    """
    merged = _opcodes(_local_matching_blocks(words, heard), len(words), len(heard))
    i = 1
    while i + 1 < len(merged):
        a_, eq, b_ = merged[i - 1], merged[i], merged[i + 1]
        if a_[0] != "equal" and eq[0] == "equal" and eq[2] - eq[1] <= 2 and b_[0] != "equal":
            n, m = b_[2] - a_[1], b_[4] - a_[3]
            if _lopsided(n, m):
                merged[i - 1:i + 2] = [["replace", a_[1], b_[2], a_[3], b_[4]]]
                continue
        i += 1
    at: list[int | None] = [None] * len(words)
    unspoken: list[tuple[int, int]] = []
    untranscribed: list[tuple[int, int]] = []
    for op, i0, i1, j0, j1 in merged:
        n, m = i1 - i0, j1 - j0
        if op == "equal":
            for k in range(n):
                at[i0 + k] = j0 + k
            continue
        if n > m and _lopsided(n, m):             # more written than heard: a sentence not said
            k = i0 + _best_drop(words[i0:i1], heard[j0:j1], n - m)
            unspoken.append((k, k + n - m))
            keep = [w for w in range(i0, i1) if not k <= w < k + n - m]
            for r, w in enumerate(keep):
                at[w] = j0 + r
        elif m > n and _lopsided(n, m):           # more heard than written: a sentence not written
            k = j0 + _best_drop(heard[j0:j1], words[i0:i1], m - n)
            untranscribed.append((k, k + m - n))
            rest = [h for h in range(j0, j1) if not k <= h < k + m - n]
            for r in range(n):
                at[i0 + r] = rest[r]
        elif n > 0 and m > 0:
            for r in range(n):
                at[i0 + r] = j0 + min(m - 1, int(r * m / n))
    return at, unspoken, untranscribed


def make_pieces(x_len: int, speech: np.ndarray, rate: int, cuts: list[tuple[float, float]]) -> list[Piece]:
    """Pause-cut pieces ≤ ALIGN_CHUNK_S, with the `cuts` time ranges (untranscribed speech) carved out."""
    pieces = [Piece(a, b) for a, b in chunk_bounds(speech, rate, x_len, ALIGN_CHUNK_S)]
    for t0, t1 in cuts:
        a, b = int(max(t0 - CUT_PAD_S, 0) * SR), int(min((t1 + CUT_PAD_S) * SR, x_len))
        out: list[Piece] = []
        for pc in pieces:
            if pc.stop <= a or pc.start >= b or not pc.transcribed:
                out.append(pc)
                continue
            if pc.start < a:
                out.append(Piece(pc.start, a))
            out.append(Piece(max(pc.start, a), min(pc.stop, b), transcribed=False))
            if pc.stop > b:
                out.append(Piece(b, pc.stop))
        pieces = out
    return [pc for pc in pieces if pc.stop - pc.start >= int(0.05 * SR)]


def _piece_of(t: float, pieces: list[Piece]) -> int:
    """Index of the piece holding time t (the nearest one if t falls between pieces)."""
    centres = np.array([(pc.start + pc.stop) / 2 / SR for pc in pieces])
    inside = [i for i, pc in enumerate(pieces) if pc.start / SR <= t < pc.stop / SR]
    return inside[0] if inside else int(np.argmin(np.abs(centres - t)))


def _fmt(t0: float, t1: float) -> str:
    return f"{t0:.1f}–{t1:.1f} s"


def _spans_text(spans: list[tuple[float, float]]) -> str:
    shown = ", ".join(_fmt(a, b) for a, b in spans[:6])
    return shown + (f" and {len(spans) - 6} more" if len(spans) > 6 else "")


def align_long(x: np.ndarray, words: list[str], speech: np.ndarray, rate: int, control: JobControl,
               check_language: bool = False) -> PhoneResult | None:
    """Forced alignment of normalised `words` to 16 kHz audio x of any length (see the module docstring).

    Returns the PhoneResult (source 'transcript' unless no piece aligned), or None when check_language is
    set and the speech does not sound like English (the caller then uses the acoustic mouth).
    """
    warnings: list[str] = []
    recognised, _, english = recognize_phones(x, speech, rate, control.sub(0.0, 0.6), "words", check_language,
                                              ANCHOR_CHUNK_S)
    if english is not None and english > ENGLISH_MAX_SCORE:
        return None
    heard = recognised_words(recognised)
    at, unspoken, untranscribed = match_words(words, [w for w, _, _ in heard])
    matched = sum(j is not None and words[i] == heard[j][0] for i, j in enumerate(at))
    if matched < MIN_HEARD_SHARE * len(words) and len(heard) >= UNSPOKEN_MIN_WORDS:
        return PhoneResult(recognised, "recognized", recognition_confidence(recognised, speech, rate),
                             [f"the transcript could not be aligned to the audio anywhere (only {matched} of its "
                              f"{len(words)} words were heard): the lips follow recognised words"], "en",
                             [(0.0, len(x) / SR, "word recognition")])

    cuts = [(heard[j0][1], heard[j1 - 1][2]) for j0, j1 in untranscribed]
    pieces = make_pieces(len(x), speech, rate, cuts)
    if not pieces:
        return PhoneResult([], "acoustic", 0.0, ["no speech to align the transcript to"], "en")

    skip = np.zeros(len(words), bool)
    for i0, i1 in unspoken:
        skip[i0:i1] = True
    if unspoken:
        runs = ["“" + " ".join(words[i0:min(i1, i0 + 6)]) + (" …" if i1 - i0 > 6 else "") + "”"
                for i0, i1 in unspoken[:3]]
        warnings.append(f"{int(skip.sum())} transcript words were not heard in the audio and were left out: "
                        + "; ".join(runs) + (" …" if len(unspoken) > 3 else ""))

    # each transcript word goes to the piece of its anchor; words between anchors follow the previous
    # anchor when it is in the same piece as the next one, else split half and half
    transcribed = [i for i, pc in enumerate(pieces) if pc.transcribed]
    piece_of_heard = []
    for _, t0, t1 in heard:
        k = _piece_of((t0 + t1) / 2, pieces)
        if not pieces[k].transcribed:   # an anchor inside cut-out speech: nearest transcribed piece
            k = min(transcribed, key=lambda i: abs(i - k)) if transcribed else k
        piece_of_heard.append(k)
    owner: list[int | None] = [None if (j is None or skip[i]) else piece_of_heard[j] for i, j in enumerate(at)]
    i = 0
    while i < len(words):
        if owner[i] is not None or skip[i]:
            i += 1
            continue
        j = i
        while j < len(words) and owner[j] is None and not skip[j]:
            j += 1
        before = next((owner[k] for k in range(i - 1, -1, -1) if owner[k] is not None), None)
        after = next((owner[k] for k in range(j, len(words)) if owner[k] is not None), None)
        if before is None and after is None:
            before = after = transcribed[0] if transcribed else 0
        before = after if before is None else before
        after = before if after is None else after
        half = i + (j - i + 1) // 2 if before != after else j
        for k in range(i, j):
            owner[k] = before if k < half else after
        i = j
    for k, w in enumerate(words):
        if owner[k] is not None:
            pieces[owner[k]].words.append(w)

    missing = set()
    for kind in ("align", "align_wide"):
        missing.update(add_pronunciations(shared_decoder(kind), words))
    if missing:
        shown = ", ".join(sorted(missing)[:8]) + (" …" if len(missing) > 8 else "")
        warnings.append(f"transcript words not in dictionary (pronunciation guessed): {shown}")

    def rec_in(a: int, b: int) -> list[Phone]:
        t0, t1 = a / SR, b / SR
        return [p for p in recognised if p.label != "SIL" and t0 <= (p.start + p.end) / 2 < t1]

    phones: list[Phone] = []
    spans: list[tuple[float, float, str]] = []
    failed: list[tuple[float, float]] = []
    no_words: list[tuple[float, float]] = []
    work = control.sub(0.6, 1.0)
    k = 0
    while k < len(pieces):
        work.report(k / len(pieces), "aligning the transcript")
        pc = pieces[k]
        t0, t1 = pc.start / SR, pc.stop / SR
        if not pc.words:
            got = rec_in(pc.start, pc.stop)
            if got:
                phones += got
                spans.append((t0, t1, "word recognition"))
                no_words.append((t0, t1))
            k += 1
            continue
        aligned = align_words(to_pcm16(x[pc.start:pc.stop]), pc.words, t0, control)
        if aligned is not None and _covers(aligned, speech, rate, pc):
            phones += aligned
            spans.append((t0, t1, "forced alignment"))
            k += 1
            continue
        nxt = pieces[k + 1] if k + 1 < len(pieces) else None
        if nxt is not None and nxt.transcribed and nxt.words:    # re-anchor over both pieces
            both = Piece(pc.start, nxt.stop, True, pc.words + nxt.words)
            aligned = align_words(to_pcm16(x[both.start:both.stop]), both.words, t0, control)
            if aligned is not None and _covers(aligned, speech, rate, both):
                phones += aligned
                spans.append((t0, nxt.stop / SR, "forced alignment"))
                k += 2
                continue
        phones += rec_in(pc.start, pc.stop)
        spans.append((t0, t1, "word recognition"))
        failed.append((t0, t1))
        k += 1

    if failed:
        warnings.append(f"the transcript could not be aligned at {_spans_text(failed)}: the lips there follow "
                        "recognised words; the rest is aligned to the transcript")
    if no_words:
        warnings.append(f"speech at {_spans_text(no_words)} matches no transcript words: the lips there follow "
                        "recognised words")
    aligned_s = sum(b - a for a, b, m in spans if m == "forced alignment")
    if aligned_s == 0:
        warnings = [w for w in warnings if not w.startswith("the transcript could not be aligned at")]
        warnings.append("the transcript could not be aligned to the audio anywhere: the lips follow "
                        "recognised words")
        return PhoneResult(phones, "recognized", recognition_confidence(phones, speech, rate), warnings, "en",
                             spans)
    return PhoneResult(phones, "transcript", 1.0, warnings, "en", spans)


def _covers(phones: list[Phone], speech: np.ndarray, rate: int, pc: Piece) -> bool:
    """The aligned phones cover enough of this piece's detected speech (else the words were squeezed)."""
    k0, k1 = pc.start * rate // SR, pc.stop * rate // SR
    local = np.zeros(len(speech), bool)
    local[k0:k1] = speech[k0:k1]
    return speech_coverage(phones, local, rate) >= MIN_ALIGNED_COVERAGE
