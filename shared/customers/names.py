"""The words a customer is found by: a name folded to lower-case ASCII-ish words, so
"Łukasz Żółć", "lukasz zolc" and "ZOLC" meet, and "O'Brien" is one word, "obrien"."""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 12
# Letters that do not decompose into a base letter plus a mark.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "đ": "d", "ð": "d", "þ": "th", "ß": "ss"})
_JOINERS = re.compile(r"['’`´]")
_WORD = re.compile(r"[a-z0-9]+")


def name_terms(*names: str | None) -> list[str]:
    """The distinct words of the names, folded, in order of appearance."""
    terms: list[str] = []
    for name in names:
        if not name:
            continue
        folded = unicodedata.normalize("NFKD", name.casefold().translate(_FOLD))
        bare = "".join(char for char in folded if not unicodedata.combining(char))
        for word in _WORD.findall(_JOINERS.sub("", bare)):
            if word not in terms:
                terms.append(word)
    return terms[:MAX_TERMS]
