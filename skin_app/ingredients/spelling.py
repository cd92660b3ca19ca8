"""One-letter typos in printed names ("Phenoxythanol", "Glyceryl Sterate"). One job: a name -> its repaired spelling.

Labels are typed by hand and misspell long chemical and Latin words. A word is repaired only when
- it is not itself a word of any inventory name, is made of letters only and has at least 5 of them;
- exactly one inventory word lies one edit away (a letter added, dropped, changed, or two neighbours swapped:
  the optimal string alignment distance), so the repair is not a choice between candidates;
- at most two words of the name need it; digits, punctuation and every other word stay as printed.

The matcher (``kb``) accepts the repaired name only when it is an inventory name without any EU
annex entry and is no fragrance allergen: a typo can never raise or clear a ban or an allergen flag, those
names keep a "did you mean" instead. Words inside parentheses (common names) that cannot be repaired are left
as they are.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from rapidfuzz.distance import OSA

MIN_WORD = 5            # shorter words are too often a different real word one letter away ("Rose"/"Rosa")
MAX_REPAIRS = 2
_PIECES = re.compile(r"([A-Za-z]+)")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class SpellingIndex:
    """The words of the inventory's names, indexed by their one-letter deletions (built on first use)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = names
        self._vocab: set[str] = set()
        self._by_delete: dict[str, list[str]] = {}
        self._built = False
        self._lock = threading.Lock()

    def _build(self) -> None:
        with self._lock:
            if self._built:
                return
            vocab = {w for n in self._names for w in _PIECES.findall(n.upper())}
            index: dict[str, list[str]] = {}
            for w in vocab:
                if len(w) >= MIN_WORD - 1:
                    for d in _deletes(w) | {w}:
                        index.setdefault(d, []).append(w)
            self._vocab, self._by_delete, self._built = vocab, index, True

    def candidates(self, word: str) -> list[str]:
        """Inventory words one edit away from an upper-case word that is not one itself."""
        if not self._built:
            self._build()
        if word in self._vocab:
            return [word]
        found = {w for d in _deletes(word) | {word} for w in self._by_delete.get(d, ())}
        return sorted(w for w in found if OSA.distance(word, w) == 1)

    def repair(self, name: str) -> str | None:
        """The name with its misspelt words repaired, upper case; None when nothing needed repair or a word
        could not be repaired unambiguously."""
        if not self._built:
            self._build()
        pieces = _PIECES.split(name.upper())
        depth = 0
        repaired = 0
        for i, piece in enumerate(pieces):
            if i % 2 == 0:                       # punctuation, digits and spaces between words
                depth += piece.count("(") - piece.count(")")
                continue
            if piece in self._vocab:
                continue
            found = self.candidates(piece) if len(piece) >= MIN_WORD else []
            if len(found) == 1:
                pieces[i] = found[0]
                repaired += 1
            elif depth <= 0:
                return None
        if not repaired or repaired > MAX_REPAIRS:
            return None
        return "".join(pieces)
