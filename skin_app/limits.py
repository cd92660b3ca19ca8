"""Every length, count and choice list the app enforces, in one place.

Storage's CHECKs and refusals, the domain validators (``reminders.validate``), the import checks
(``export.py``) and the pages' ``max_chars`` all read these, so a value a form accepts is one an import
accepts and storage keeps, and the other way round. Where two places used to disagree, the stricter value
was kept wherever no stored row can exceed it (rows were written through the stricter check), otherwise
the looser one, so nothing already stored stops re-importing. ``tests/test_limits.py`` checks that no
other module defines them.
"""
from __future__ import annotations

# -- text a person types ---------------------------------------------------------------------------------
NOTE_MAX = 2_000                 # a scan's note (storage always took 2,000, so older notes re-import)
PROFILE_NAME_MAX = 60            # a profile's name (an imported name is cut to this)
ROUTINE_NAME_MAX = 80            # a routine's name (the form always checked 80)
STEP_TEXT_MAX = 200              # a routine step's text, and the product named in it (the form checked 200)
STEPS_MAX = 30                   # steps in one routine
SHELF_NAME_MAX = 120             # a product on the ingredient shelf
SHELF_TEXT_MAX = 100_000         # its ingredient list, in characters
KIT_PRODUCTS_COMPARED = 50       # products of one paste checked against each other (a real kit has under 10)
INGREDIENT_INPUT_MAX = 200_000   # pasted label text the analyzer reads (more is cut off, and said so)
UNKNOWN_TEXT_MAX = 200           # an unrecognised ingredient name kept for the data-gap list
UNKNOWN_ROWS_MAX = 5_000         # how many such names are kept (the most frequent)

# -- routine choices ----------------------------------------------------------------------------------------
SCHEDULE_KINDS: tuple[str, ...] = ("once", "daily", "weekdays", "every_n_days")
ALERT_CHOICES: tuple[int, ...] = (0, 15, 30)          # minutes before the routine
INTERVAL_DAYS_MIN = 1                                  # "every N days": N from 1 ...
INTERVAL_DAYS_MAX = 365                                # ... to a year

# -- stored pictures ------------------------------------------------------------------------------------
MAX_PNG_BYTES = 1_000_000        # a stored picture is ~100 KB; anything far larger is not ours
MAX_PNG_SIDE = 1024              # px; stored pictures are pictures.STORED_SIZE, older or imported ones no larger

# -- the database file --------------------------------------------------------------------------------------
RESERVE_BYTES = 2 * 1024 * 1024            # kept allocated beside the database, given up so a delete works on a full disk

# -- imported files (hostile-file proof) ---------------------------------------------------------------------
MAX_FILE_BYTES = 25 * 1024 * 1024          # a lone scans .csv (as a photo: imaging.MAX_BYTES)
# A backup of the app's own formats (JSON, CSV ZIP) may be far larger: 500 scans with pictures are about 85 MB of
# JSON. Memory budget: reading a JSON file takes about 3x its size at the peak (bytes, text, parsed values), a
# ZIP about its unpacked size, so an import stays under about 800 MB. An export larger than this is refused
# with advice (leave the pictures out) rather than written as a backup that could not be restored.
# It is also the largest upload the page takes: serve.py sets Streamlit's server.maxUploadSize and its
# own body bound from it, for files in these formats only (a photo or a .csv stays at 25 MB). There the upload
# itself is held as well while the tab is open, so an import from the page peaks at about 4x (1 GB at the limit).
MAX_IMPORT_BYTES = 256 * 1024 * 1024
MAX_UNPACKED_BYTES = 320 * 1024 * 1024     # a ZIP may not unpack to more than this (zip bombs), counted as read
MAX_ROWS = 100_000                         # per table
MAX_TOTAL_ROWS = 200_000                   # all tables together (bounds the memory an import takes)
MAX_JSON_CONTAINERS = 250_000              # objects and lists in one JSON file (parsed: about 170 MB at most)
MAX_NESTING = 24                           # depth of a JSON value inside a record (metrics, actives)
MAX_CSV_FIELD = 1_000_000                  # characters in one CSV cell (our own exports stay far below)
MODEL_VERSION_MAX = 200                    # characters of a scan's model version


# -- every stored value (skin_app/values.py applies these on every path: page, CLI, import, re-scoring) ----------
STORED_NUMBER_MAX = 10**15                 # |a number| in stored JSON (measurements, actives): float() of it cannot overflow
STORED_JSON_ITEMS_MAX = 20_000             # values in one stored JSON field (a scan's measurements hold a few hundred)
STORED_YEAR_MIN = 2                        # stored times (UTC) lie where every time zone can show them:
STORED_YEAR_MAX = 9998                     # year 1 west of UTC and 9999 east of it cannot be shown


def sql_in(values: tuple[str, ...] | tuple[int, ...]) -> str:
    """``values`` as the list of an SQL ``IN (...)`` CHECK, so the schema reads the same choice list."""
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(int(v)) for v in values)
