"""One-letter typos in printed names ("Phenoxythanol", "Glyceryl Sterate"). One job: a name -> its repaired spelling.

Labels are typed by hand and misspell long chemical and Latin words. A word is repaired only when
- it is not itself a word of any inventory name, is made of letters only and has at least 5 of them (4 in a
  name of several words, whose other words pin the repair down);
- an inventory word lies one edit away (a letter added, dropped, changed, or two neighbours swapped: the
  optimal string alignment distance); where several do, the matcher keeps only the spellings that make an
  inventory name, and repairs only when they all name one ingredient ("Sodum Benzoate": SEDUM or SODIUM, and
  only SODIUM BENZOATE is a name), so the repair is never a choice between candidates;
- at most two words of the name need it; digits, punctuation and every other word stay as printed.

The matcher (``kb``) accepts the repaired name only when it is an inventory name without any EU
annex entry and is no fragrance allergen: a typo can never raise or clear a ban or an allergen flag, those
names keep a "did you mean" instead. Words inside parentheses (common names) that cannot be repaired are left
as they are.
"""
from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable

from rapidfuzz.distance import OSA

MIN_WORD = 5            # shorter words are too often a different real word one letter away ("Maca"/"Mica")
MIN_WORD_IN_NAME = 4    # ... unless other words of the name pin the repair down ("Glycine Sojo Oil")
MAX_REPAIRS = 2
MAX_SPELLINGS = 16      # combinations of candidate words tried for one name
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
        spellings = self.repairs(name)
        return spellings[0] if len(spellings) == 1 else None

    def repairs(self, name: str) -> list[str]:
        """Every spelling of the name with each misspelt word replaced by one of its candidates, upper case (at
        most ``MAX_SPELLINGS``); empty when nothing needed repair, a word outside parentheses has no candidate,
        or more than ``MAX_REPAIRS`` words need one."""
        if not self._built:
            self._build()
        pieces = _PIECES.split(name.upper())
        options: list[list[str]] = []
        depth = 0
        repaired = 0
        for i, piece in enumerate(pieces):
            if i % 2 == 0:                       # punctuation, digits and spaces between words
                depth += piece.count("(") - piece.count(")")
            if i % 2 == 0 or piece in self._vocab:
                options.append([piece])
                continue
            shortest = MIN_WORD if len(pieces) <= 3 else MIN_WORD_IN_NAME     # one word, or several
            found = self.candidates(piece) if len(piece) >= shortest else []
            if found:
                options.append(found)
                repaired += 1
            elif depth <= 0:
                return []
            else:
                options.append([piece])
        if not repaired or repaired > MAX_REPAIRS:
            return []
        return ["".join(combo) for combo in itertools.islice(itertools.product(*options), MAX_SPELLINGS)]
