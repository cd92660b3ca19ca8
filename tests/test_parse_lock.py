"""Python syntax trees are built one at a time in the app's process (skin_app/parse_lock.py): on this
CPython two threads building them at once could fail with "AST constructor recursion depth mismatch", and a
page compiled while the model loaded showed "This app has encountered an error"."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# One thread keeps reading a .npy header as numpy does (ast.literal_eval); the other parses a large module
# right after leaving garbage whose finalizer lets the first thread run in the middle of the parse.
CLASH = """
import ast, gc, sys, threading, time
sys.path.insert(0, {root!r})
if {turns!r}:
    from skin_app.parse_lock import take_turns
    take_turns()
source = open(ast.__file__).read()
header = "{{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3, 64, 64), }}"
errors, header_reads, stop = [], [0], False
class Garbage:
    def __init__(self): self.me = self
    def __del__(self): time.sleep(0.0005)
def headers():
    while not stop:
        try:
            ast.literal_eval(header)
            header_reads[0] += 1
        except SystemError as exc:
            errors.append(str(exc))
reader = threading.Thread(target=headers)
reader.start()
gc.set_threshold(300)
for _ in range({parses!r}):
    if errors:
        break                                   # the clash has shown itself
    gc.disable()
    for _ in range(200):
        Garbage()
    gc.enable()
    try:
        ast.parse(source)
    except SystemError as exc:
        errors.append(str(exc))
stop = True
reader.join()
print(len(errors), header_reads[0])
"""


def clash(turns: bool, parses: int) -> tuple[int, int]:
    """(parses that failed, headers read) in the clash above, with or without turns; up to ``parses`` large
    parses, ending at the first failure."""
    done = subprocess.run([sys.executable, "-c", CLASH.format(root=str(ROOT), turns=turns, parses=parses)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    failed, reads = done.stdout.split()
    return int(failed), int(reads)


def test_two_threads_parsing_at_once_never_fail_when_they_take_turns():
    failed, reads = clash(turns=True, parses=3)
    assert failed == 0
    assert reads > 0                                # the other thread did parse meanwhile


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="measured on CPython 3.11 (3.11.7 here)")
def test_the_clash_is_real_on_this_python_without_turns():
    # What the lock is for: without it the same two threads fail (every large parse failed here, 26 of 26,
    # on CPython 3.11.7; ten tries are allowed).
    failed, _ = clash(turns=False, parses=10)
    assert failed > 0


def test_a_parse_in_turn_builds_the_same_tree_and_the_wrapping_happens_once():
    from skin_app.parse_lock import take_turns
    take_turns()
    wrapped = ast.parse
    take_turns()
    assert ast.parse is wrapped and wrapped.takes_turns
    assert ast.dump(ast.parse("x = {'a': (1, 2)}")) == ast.dump(wrapped.__wrapped__("x = {'a': (1, 2)}"))
    assert ast.literal_eval("{'shape': (3, 4)}") == {"shape": (3, 4)}


def test_starting_the_model_loader_makes_parses_take_turns(tmp_path):
    done = subprocess.run([sys.executable, "-c", (
        f"import sys, ast; sys.path.insert(0, {str(ROOT)!r})\n"
        "from skin_app.scan.preload import Preloader\n"
        f"Preloader({str(tmp_path / 'no-model.npz')!r}).start()\n"
        "print(getattr(ast.parse, 'takes_turns', False))\n")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
