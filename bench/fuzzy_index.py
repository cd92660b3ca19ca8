"""The fuzzy "did you mean" index grouped by name length against a scan of the whole list, in one process.

    python bench/fuzzy_index.py [--names 3000] [--seed 1]

Queries: inventory names with one to three random typos (substitution, deletion, vowel insertion) and random
consonant strings (a paste of unknown names). Both ways answer every query; the bench counts queries whose
answers differ (must be 0) and the CPU seconds of each, and writes ``results/fuzzy_index.json``.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from skin_app.ingredients.kb import default_kb, loose_key, name_variants  # noqa: E402


def whole_list(name: str, keys: list[str], entries: list, variants: int = 4):
    """The answer before the index: ``process.extractOne`` over every name, as ``KnowledgeBase._fuzzy`` did."""
    best = None
    for v in name_variants(name)[:variants]:
        k = loose_key(v)
        if len(k) < 5 or len(k) > 120:
            continue
        found = process.extractOne(k, keys, scorer=fuzz.ratio, score_cutoff=90.0 if len(k) < 12 else 87.0)
        if found is not None and (best is None or found[1] > best[1]):
            best = (entries[found[2]], found[1])
    return None if best is None else (best[0].inci, round(best[1], 1))


def typo(rng: random.Random, key: str) -> str:
    s = list(key)
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(len(s))
        op = rng.random()
        if op < 0.4:
            s[i] = rng.choice("abcdefghijklmnopqrstuvwxyz ")
        elif op < 0.7:
            del s[i]
        else:
            s.insert(i, rng.choice("aeiou"))
        s = s or ["x"]
    return "".join(s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "fuzzy_index.json"))
    args = ap.parse_args()
    kb = default_kb()
    rng = random.Random(args.seed)
    names = [typo(rng, k) for k in rng.sample(kb._fuzzy_keys, args.names)]
    names += ["".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(4, 30))) for _ in range(args.names // 6)]
    t0 = time.process_time()
    before = [whole_list(n, kb._fuzzy_keys, kb._fuzzy_entries) for n in names]
    t1 = time.process_time()
    after = []
    for n in names:
        m = kb._fuzzy(n)
        after.append(None if m.suggestion is None else (m.suggestion.inci, m.score))
    t2 = time.process_time()
    result = {"queries": len(names), "with_suggestion": sum(a is not None for a in before),
              "answers_differ": sum(a != b for a, b in zip(before, after)),
              "whole_list_cpu_s": round(t1 - t0, 2), "by_length_cpu_s": round(t2 - t1, 2),
              "speedup": round((t1 - t0) / max(t2 - t1, 1e-9), 2), "inventory_names": len(kb._fuzzy_keys)}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
