"""One Python syntax tree built at a time in this process.

CPython 3.11 (this machine has 3.11.7) counts the depth of the tree that ``ast.parse`` is building in one
place shared by every thread (python/cpython#106905). When two threads build trees at once, and a garbage
collection inside one lets the other run, the count goes wrong and ``ast.parse`` fails with "SystemError:
AST constructor recursion depth mismatch". In the app two threads do parse at once: the model loader (numpy
reads the header of each of the weights' 228 arrays with ``ast.literal_eval``) and Streamlit compiling a
page for a browser, so a page opened while the model loaded could show "This app has encountered an error"
(seen on a fresh start under load; tests/test_parse_lock.py reproduces the clash). ``take_turns()`` makes
every ``ast.parse`` in the process (``literal_eval`` included) wait for the one in progress; parses are short,
and a thread already parsing may parse again (a finalizer run during its parse)."""
from __future__ import annotations

import ast
import functools
import threading

_TURN = threading.RLock()


def take_turns() -> None:
    """Wraps ``ast.parse`` (once per process) so that parses take turns."""
    parse = ast.parse
    if getattr(parse, "takes_turns", False):
        return

    @functools.wraps(parse)
    def parse_in_turn(*args, **kwargs):
        with _TURN:
            return parse(*args, **kwargs)

    parse_in_turn.takes_turns = True  # type: ignore[attr-defined]
    ast.parse = parse_in_turn
