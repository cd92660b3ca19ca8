"""The database schema: every table, as an ordered list of migration scripts (applied by ``db.py``).

``PRAGMA user_version`` records how many have been applied, so an older file is upgraded in place when
it is opened. The CHECKs read their choice lists from ``limits.py``; changing such a list needs a new
migration, since an existing file keeps the CHECK it was created with.
"""
from __future__ import annotations

# Each entry upgrades the schema by one version. Never edit an applied entry; append a new one.
MIGRATIONS: list[str] = [
    # 1: profiles and scans
    """
    CREATE TABLE profiles (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE scans (
        id            INTEGER PRIMARY KEY,
        profile_id    INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        taken_at      TEXT NOT NULL,
        note          TEXT NOT NULL DEFAULT '',
        scores_json   TEXT NOT NULL,
        metrics_json  TEXT NOT NULL,
        model_version TEXT NOT NULL,
        crop_png      BLOB
    );
    CREATE INDEX scans_by_profile ON scans(profile_id, taken_at);
    """,
    # 2: ingredient shelf and unknown-ingredient log (owned by the ingredients feature)
    """
    CREATE TABLE shelf_products (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id       INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name             TEXT NOT NULL,
        ingredients_text TEXT NOT NULL,
        inci_json        TEXT NOT NULL DEFAULT '[]',
        actives_json     TEXT NOT NULL DEFAULT '{}',
        created_at       TEXT NOT NULL
    );
    CREATE INDEX shelf_by_profile ON shelf_products(profile_id, name);
    CREATE TABLE unknown_ingredients (
        text            TEXT PRIMARY KEY,
        count           INTEGER NOT NULL DEFAULT 1,
        first_seen      TEXT NOT NULL,
        last_seen       TEXT NOT NULL,
        example_product TEXT NOT NULL DEFAULT ''
    );
    """,
    # 3: routines, schedules and their done/skipped log (owned by the reminders feature). Written out as it
    # was applied: a migration never changes, so a later change to a choice list in limits.py needs a new one.
    """
    CREATE TABLE routines (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id    INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('once', 'daily', 'weekdays', 'every_n_days')),
        time_of_day   TEXT NOT NULL,
        timezone      TEXT NOT NULL,
        start_date    TEXT NOT NULL,
        end_date      TEXT,
        weekdays      TEXT NOT NULL DEFAULT '',
        interval_days INTEGER NOT NULL DEFAULT 1 CHECK (interval_days >= 1),
        alert_minutes INTEGER NOT NULL DEFAULT 0 CHECK (alert_minutes IN (0, 15, 30)),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX routines_by_profile ON routines(profile_id);
    CREATE TABLE routine_steps (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        routine_id    INTEGER NOT NULL REFERENCES routines(id) ON DELETE CASCADE,
        position      INTEGER NOT NULL,
        text          TEXT NOT NULL,
        product_name  TEXT,
        product_id    INTEGER
    );
    CREATE INDEX routine_steps_by_routine ON routine_steps(routine_id, position);
    CREATE TABLE routine_log (
        routine_id      INTEGER NOT NULL REFERENCES routines(id) ON DELETE CASCADE,
        occurrence_date TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('done', 'skipped')),
        logged_at       TEXT NOT NULL,
        PRIMARY KEY (routine_id, occurrence_date)
    );
    CREATE TABLE routine_step_log (
        step_id         INTEGER NOT NULL REFERENCES routine_steps(id) ON DELETE CASCADE,
        occurrence_date TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('done', 'skipped')),
        logged_at       TEXT NOT NULL,
        PRIMARY KEY (step_id, occurrence_date)
    );
    """,
    # 4: the scan's concern masks beside its crop (for overlays in Progress > Compare), and each
    # profile's privacy choice: store the small aligned face picture with a scan (1) or nothing (0)
    """
    ALTER TABLE scans ADD COLUMN masks_png BLOB;
    ALTER TABLE profiles ADD COLUMN store_pictures INTEGER NOT NULL DEFAULT 1;
    """,
    # 5: which score calibration produced each scan's scores. Scans stored before calibrated display
    # scores existed hold the seed project's raw scores ('seed'); ``rescore_scans`` maps them onto the
    # current calibration from their stored raw measurements (and keeps the seed scores in metrics).
    """
    ALTER TABLE scans ADD COLUMN scored_by TEXT NOT NULL DEFAULT 'seed';
    """,
    # 6: each scan's view (front, left, right, closeup; concerns.VIEWS) so every view keeps its own
    # history line, and the visit that a "full check" (front + left + right saved together) groups
    """
    ALTER TABLE scans ADD COLUMN view TEXT NOT NULL DEFAULT 'front';
    ALTER TABLE scans ADD COLUMN visit TEXT;
    CREATE INDEX scans_by_view ON scans(profile_id, view, taken_at);
    """,
    # 7: the unknown-ingredient log belongs to a profile: the names a person's pasted lists held (and the
    # product they came from) are theirs, go with their profile when it is deleted, and are not shown to
    # another profile. Rows logged before were shown to every profile; each existing profile keeps a copy,
    # so nobody loses their list and nobody sees more than before.
    """
    CREATE TABLE unknown_ingredients_by_profile (
        profile_id      INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        text            TEXT NOT NULL,
        count           INTEGER NOT NULL DEFAULT 1,
        first_seen      TEXT NOT NULL,
        last_seen       TEXT NOT NULL,
        example_product TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (profile_id, text)
    );
    INSERT INTO unknown_ingredients_by_profile(profile_id, text, count, first_seen, last_seen, example_product)
        SELECT p.id, u.text, u.count, u.first_seen, u.last_seen, u.example_product
        FROM unknown_ingredients AS u CROSS JOIN profiles AS p;
    DROP TABLE unknown_ingredients;
    ALTER TABLE unknown_ingredients_by_profile RENAME TO unknown_ingredients;
    """,
]
