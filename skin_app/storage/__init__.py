"""SQLite storage, organised by concept (as sqlite-utils is), behind one ``Storage`` facade.

- ``db.py``: the connection per thread, the one transaction helper, SQLite errors in words
  (:class:`DatabaseError`), file permissions, migrations, secure delete and VACUUM; it knows no feature.
- ``schema.py``: every table, as the ordered list of migrations.
- one module per concept, each holding its tables' queries and their one row writer, used by the
  feature and by import alike: ``profiles.py``, ``scans.py`` (with re-scoring), ``shelf.py`` (shelf
  products and the unknown-ingredient log), ``routines.py`` (routines, steps, done/skipped marks).
- ``transfer.py``: a profile's rows, table by table, out and back in (the file formats are ``export.py``'s).

This package is the only place in the project that writes SQL. A row it refuses (a name too long, a
score out of range, a profile gone) raises :class:`errors.InvalidRecordError`; a file it cannot use,
:class:`DatabaseError`; both are ``UserFacingError``s, the one class pages catch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from skin_app.storage import profiles, routines, scans, shelf, transfer
from skin_app.storage.db import FILE_MODE, FOLDER_MODE, Database, DatabaseError, _split_sql, write_error
from skin_app.storage.profiles import Profile
from skin_app.storage.scans import UNSCORABLE_PREFIX, StoredScan, normalise_timestamp
from skin_app.storage.schema import MIGRATIONS
from skin_app.storage.shelf import ShelfProduct, UnknownIngredient
from skin_app.storage.transfer import ImportSummary

__all__ = ["FILE_MODE", "FOLDER_MODE", "MIGRATIONS", "UNSCORABLE_PREFIX", "DatabaseError", "ImportSummary",
           "Profile", "ShelfProduct", "Storage", "StorageSummary", "StoredScan", "UnknownIngredient", "_split_sql",
           "normalise_timestamp", "write_error"]


@dataclass(frozen=True)
class StorageSummary:
    """What the database holds, for the settings page."""
    path: Path
    file_bytes: int                       # database file plus its write-ahead log
    profiles: int
    scans: int
    pictures: int
    shelf_products: int
    routines: int


class Storage(Database):
    """A handle on one database file with every feature's operations; each is its concept module's
    function, called with this handle. Safe to share between threads (one connection per thread)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        super().__init__(path, MIGRATIONS)

    def summary(self) -> StorageSummary:
        counts = self.query(
            "SELECT (SELECT COUNT(*) FROM profiles), (SELECT COUNT(*) FROM scans), "
            "(SELECT COUNT(*) FROM scans WHERE crop_png IS NOT NULL), (SELECT COUNT(*) FROM shelf_products), "
            "(SELECT COUNT(*) FROM routines)")[0]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return StorageSummary(self.path, size, *[int(c) for c in counts])

    # profiles
    create_profile = profiles.create_profile
    get_or_create_profile = profiles.get_or_create_profile
    profiles_or_first = profiles.profiles_or_first
    list_profiles = profiles.list_profiles
    get_profile = profiles.get_profile
    set_store_pictures = profiles.set_store_pictures
    delete_profile = profiles.delete_profile
    # scans
    add_scan = scans.add_scan
    add_scans = scans.add_scans
    rescore_scans = scans.rescore_scans
    list_scans = scans.list_scans
    scan_views = scans.scan_views
    get_scan = scans.get_scan
    latest_scan = scans.latest_scan
    latest_scans = scans.latest_scans
    delete_scan = scans.delete_scan
    delete_scans = scans.delete_scans
    forget_pictures = scans.forget_pictures
    update_scan_measurements = scans.update_scan_measurements
    # ingredient shelf and unknown-ingredient log
    save_shelf_product = shelf.save_shelf_product
    list_shelf = shelf.list_shelf
    get_shelf_product = shelf.get_shelf_product
    delete_shelf_product = shelf.delete_shelf_product
    log_unknown_ingredients = shelf.log_unknown_ingredients
    unknown_ingredients = shelf.unknown_ingredients
    clear_unknown_ingredients = shelf.clear_unknown_ingredients
    # routines
    create_routine = routines.create_routine
    update_routine = routines.update_routine
    get_routine = routines.get_routine
    list_routines = routines.list_routines
    delete_routine = routines.delete_routine
    mark_routine = routines.mark_routine
    clear_marks = routines.clear_marks
    routine_log = routines.routine_log
    # a profile's rows out and in (formats live in skin_app/history/export.py)
    export_profile_tables = transfer.export_profile_tables
    import_profile_tables = transfer.import_profile_tables
