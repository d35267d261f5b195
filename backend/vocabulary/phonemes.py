"""Phone classes of the ARPAbet phone set (CMU, no stress digits) plus 'SIL' for silence and pauses."""
from __future__ import annotations

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
BILABIALS = frozenset(("P", "B", "M"))   # the lips must meet: p, b, m
SILENCE = "SIL"
