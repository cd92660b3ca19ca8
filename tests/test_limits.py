"""Every limit and choice list has one definition, skin_app/limits.py, that storage, validators, imports and pages read."""
import re
import sqlite3
from datetime import date, time
from pathlib import Path

import pytest

from skin_app import limits
from skin_app.limits import (
    ALERT_CHOICES,
    INGREDIENT_INPUT_MAX,
    INTERVAL_DAYS_MAX,
    INTERVAL_DAYS_MIN,
    KIT_PRODUCTS_COMPARED,
    MAX_CSV_FIELD,
    MAX_FILE_BYTES,
    MAX_IMPORT_BYTES,
    MAX_JSON_CONTAINERS,
    MAX_NESTING,
    MAX_PNG_BYTES,
    MAX_PNG_SIDE,
    MAX_ROWS,
    MAX_TOTAL_ROWS,
    MAX_UNPACKED_BYTES,
    MODEL_VERSION_MAX,
    NOTE_MAX,
    PROFILE_NAME_MAX,
    RESERVE_BYTES,
    ROUTINE_NAME_MAX,
    SCHEDULE_KINDS,
    SHELF_NAME_MAX,
    SHELF_TEXT_MAX,
    STEP_TEXT_MAX,
    STEPS_MAX,
    STORED_JSON_ITEMS_MAX,
    STORED_NUMBER_MAX,
    STORED_YEAR_MAX,
    STORED_YEAR_MIN,
    UNKNOWN_ROWS_MAX,
    UNKNOWN_TEXT_MAX,
)
from skin_app.routines.schedule import Routine, Schedule, Step, problems
from skin_app.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
NAMES = [n for n in vars(limits) if n.isupper()]


def test_every_limit_is_a_positive_number_or_a_choice_list():
    imported = [ALERT_CHOICES, INGREDIENT_INPUT_MAX, KIT_PRODUCTS_COMPARED, INTERVAL_DAYS_MAX, INTERVAL_DAYS_MIN, MAX_CSV_FIELD, MAX_FILE_BYTES,
                MAX_IMPORT_BYTES, MAX_JSON_CONTAINERS, MAX_NESTING, MAX_PNG_BYTES, MAX_PNG_SIDE, MAX_ROWS, MAX_TOTAL_ROWS,
                MAX_UNPACKED_BYTES, MODEL_VERSION_MAX, NOTE_MAX, PROFILE_NAME_MAX, ROUTINE_NAME_MAX, SCHEDULE_KINDS,
                SHELF_NAME_MAX, SHELF_TEXT_MAX, STEP_TEXT_MAX, STEPS_MAX, RESERVE_BYTES, STORED_JSON_ITEMS_MAX, STORED_NUMBER_MAX,
                STORED_YEAR_MAX, STORED_YEAR_MIN, UNKNOWN_ROWS_MAX, UNKNOWN_TEXT_MAX]
    assert len(imported) == len(NAMES)          # the test imports every one (a new limit is added here too)
    assert all(v > 0 if isinstance(v, int) else len(v) > 0 for v in imported)
    assert INTERVAL_DAYS_MIN < INTERVAL_DAYS_MAX and MAX_FILE_BYTES < MAX_IMPORT_BYTES < MAX_UNPACKED_BYTES and MAX_ROWS <= MAX_TOTAL_ROWS


def test_no_other_module_defines_a_limit():
    definition = re.compile(r"^\s*(" + "|".join(NAMES) + r")\s*(:[^=]*)?=", re.M)
    sources = [*ROOT.glob("skin_app/**/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "app.py"]
    offenders = [f"{path.relative_to(ROOT)}: {m.group(1)}" for path in sources if path.name != "limits.py"
                 for m in definition.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_pages_take_their_max_chars_from_limits():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("app_pages/*.py"))
    assert re.findall(r"max_chars=\d+", pages) == ["max_chars=20"]      # only the typed confirmation word


def test_storage_checks_read_the_routine_choice_lists(tmp_path):
    Storage(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        schema = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'routines'").fetchone()[0]
    assert limits.sql_in(SCHEDULE_KINDS) in schema and limits.sql_in(ALERT_CHOICES) in schema


def _routine(name="Night", steps=("Cleanse",), interval=1):
    schedule = Schedule(kind="every_n_days", time_of_day=time(7, 30), timezone="Europe/Berlin",
                        start_date=date(2026, 1, 1), interval_days=interval)
    return Routine(name=name, schedule=schedule, steps=tuple(Step(text=t) for t in steps))


@pytest.mark.parametrize("routine", [_routine(name="x" * (ROUTINE_NAME_MAX + 1)),
                                     _routine(steps=["s" * (STEP_TEXT_MAX + 1)]),
                                     _routine(steps=["s"] * (STEPS_MAX + 1)),
                                     _routine(interval=INTERVAL_DAYS_MAX + 1)])
def test_the_routine_validator_refuses_one_past_each_limit(routine):
    assert problems(routine)


def test_the_routine_validator_accepts_each_limit_exactly():
    assert problems(_routine(name="x" * ROUTINE_NAME_MAX, steps=["s" * STEP_TEXT_MAX] * STEPS_MAX,
                             interval=INTERVAL_DAYS_MAX)) == []
