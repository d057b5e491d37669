"""Issue 11 O: a file or folder name holding a bidi control (U+202E shows
"x\u202egpj.safetensors" as "xsrosnetefas.jpg") or another invisible format character can
show one name in the UI and be another; such names are refused. Joiners that scripts and
emoji need (ZWNJ, ZWJ) and visible spaces other than U+0020 stay allowed."""

from __future__ import annotations

import pytest

from host.catalog.paths import dest_problem, name_problem

INVISIBLE = {
    "RLO": "\u202e", "LRO": "\u202d", "RLE": "\u202b", "LRE": "\u202a", "PDF": "\u202c",
    "RLI": "\u2067", "LRI": "\u2066", "FSI": "\u2068", "PDI": "\u2069",
    "LRM": "\u200e", "RLM": "\u200f", "ALM": "\u061c",
    "ZWSP": "\u200b", "WJ": "\u2060", "invisible-times": "\u2062", "BOM": "\ufeff",
    "soft-hyphen": "\u00ad", "mongolian-vowel-separator": "\u180e",
    "interlinear-anchor": "\ufff9", "inhibit-symmetric-swapping": "\u206a",
    "tag-letter": "\U000e0041", "language-tag": "\U000e0001",
}


@pytest.mark.parametrize("char", list(INVISIBLE.values()), ids=list(INVISIBLE))
def test_bidi_controls_and_invisible_format_characters_are_refused(char: str) -> None:
    assert name_problem(f"invoice{char}gpj.safetensors")
    assert dest_problem(f"loras/style{char}s")


@pytest.mark.parametrize("name", [
    "می\u200cخواهم.safetensors",  # ZWNJ: Persian needs it
    "क्\u200dष.safetensors",  # ZWJ: Indic conjuncts
    "👩\u200d🎨 artist.safetensors",  # ZWJ emoji sequence
    "桜\u3000ミク.safetensors",  # ideographic space
    "nbsp\u00a0name.safetensors",
    "private\ue000use.safetensors",
])
def test_visible_and_script_characters_stay_allowed(name: str) -> None:
    assert name_problem(name) is None
