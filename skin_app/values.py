"""The rules every stored value follows, whoever writes it (a page, the CLI, an import, re-scoring):
text is valid Unicode without lone surrogates or control characters, JSON values (a scan's measurements,
a product's actives) hold only finite numbers of a bounded size, and times lie where every time zone can
show them. An imported file is untrusted: a 400-digit number or a lone surrogate stored once used to stop
every page (``OverflowError``, ``UnicodeEncodeError``) and every later export.

Each check returns a problem in words (or raises ``ValueError`` with it); callers turn it into their own
refusal (``InvalidRecordError`` in storage, ``ExportFileError`` in an import).
"""
from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timezone, tzinfo
from typing import Any

from skin_app.limits import MAX_NESTING, STORED_JSON_ITEMS_MAX, STORED_NUMBER_MAX, STORED_YEAR_MAX, STORED_YEAR_MIN

_LINE_BREAKS = frozenset("\t\n\r")


def text_problem(text: str, name: str, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored, or None: a lone surrogate (not Unicode; it cannot be written as
    UTF-8), or a control character (which moves a terminal's cursor or hides text); tabs and line
    breaks are allowed in ``multiline`` text (a note, an ingredient list)."""
    for ch in text:
        category = unicodedata.category(ch) if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or 0xD800 <= ord(ch) <= 0xDFFF else ""
        if category == "Cs":
            return f"{name} holds a broken character (a lone UTF-16 surrogate, U+{ord(ch):04X})"
        if category == "Cc" and not (multiline and ch in _LINE_BREAKS):
            return f"{name} holds a control character (U+{ord(ch):04X})"
    return None


def check_text(text: str, name: str, multiline: bool = False) -> str:
    """``text`` unchanged, or ``ValueError`` with :func:`text_problem`'s words."""
    problem = text_problem(text, name, multiline)
    if problem:
        raise ValueError(problem)
    return text


def check_json_value(value: Any, name: str) -> Any:
    """``value`` unchanged if it is plain JSON as this app writes it: objects with text keys, lists, text,
    booleans, null, and finite numbers no larger than ``STORED_NUMBER_MAX`` (so ``float()`` of any of
    them cannot overflow), nested at most ``MAX_NESTING`` deep, ``STORED_JSON_ITEMS_MAX`` items in all.
    Checked without recursion, so a hostile value cannot exhaust the stack. Else ``ValueError``."""
    stack = [(value, 1)]
    items = 0
    while stack:
        item, depth = stack.pop()
        items += 1
        if items > STORED_JSON_ITEMS_MAX:
            raise ValueError(f"{name} holds more than {STORED_JSON_ITEMS_MAX:,} values")
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if abs(item) > STORED_NUMBER_MAX:
                raise ValueError(f"{name} holds a number far too large ({str(item)[:20]}...)")
        elif isinstance(item, float):
            if not math.isfinite(item) or abs(item) > STORED_NUMBER_MAX:
                raise ValueError(f"{name} holds a number out of range ({item!r:.20})")
        elif isinstance(item, str):
            check_text(item, name, multiline=True)
        elif isinstance(item, (dict, list)):
            if depth > MAX_NESTING:
                raise ValueError(f"{name} is nested deeper than {MAX_NESTING} levels")
            if isinstance(item, dict):
                for key in item:
                    if not isinstance(key, str):
                        raise ValueError(f"{name} has a key that is not text")
                    check_text(key, f"a key of {name}")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
        else:
            raise ValueError(f"{name} holds a {type(item).__name__}, not a JSON value")
    return value


def time_problem(moment: datetime) -> str | None:
    """Why an (aware) time cannot be stored, or None: outside years ``STORED_YEAR_MIN`` to
    ``STORED_YEAR_MAX`` (UTC), where some time zone could not show it (year 1 west of UTC, 9999 east)."""
    if not STORED_YEAR_MIN <= moment.astimezone(timezone.utc).year <= STORED_YEAR_MAX:
        return (f"{moment.isoformat()[:40]} is outside the range of dates this app stores (years "
                f"{STORED_YEAR_MIN}-{STORED_YEAR_MAX})")
    return None


def local_time(stored: str | datetime, zone: tzinfo | None = None) -> datetime | None:
    """A stored UTC time in ``zone`` (None: this computer's zone) for showing; in UTC where that zone
    cannot show it (a time stored by an older version at the calendar's ends), None if it is not a time."""
    try:
        moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored)[:64].replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    for target in (zone, timezone.utc):
        try:
            return moment.astimezone(target)
        except (OverflowError, ValueError):
            continue
    return moment                                   # as stored: not even UTC can show it
