"""Migration 5 and re-scoring: scans stored by the release before calibrated scores are brought onto
the display scale from their stored raw measurements; the seed scores are kept; a scan that cannot be
re-scored is marked, not changed."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest

from skin_app.scan.calibration import load_calibration
from skin_app.storage import MIGRATIONS, Storage

SEED_SCORES = {"acne": 98.8, "flek": 99.1, "wrinkle": 99.5, "panda_eye": 88.0, "overall": 96.35}
SEED_METRICS = {"area_fraction": {"acne": 0.012, "flek": 0.009, "wrinkle": 0.005, "panda_eye": 0.12},
                "acne_lesion_count": 7, "per_region": {}}


def release_4_database(path) -> None:
    """A file as the previous release left it: the first four migrations only, seed scores."""
    conn = sqlite3.connect(path)
    from skin_app.storage import _split_sql
    for script in MIGRATIONS[:4]:
        for statement in _split_sql(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO profiles(name, created_at) VALUES ('Me', '2025-01-01T00:00:00+00:00')")
    for day, metrics in ((1, SEED_METRICS), (2, {"acne_lesion_count": 2})):
        conn.execute("INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version) "
                     "VALUES (1, ?, '', ?, ?, 'unet-resnet34-6ch-ef33e5972a')",
                     (f"2025-03-0{day}T09:00:00+00:00", json.dumps(SEED_SCORES), json.dumps(metrics)))
    conn.commit()
    conn.close()


@pytest.fixture()
def migrated(tmp_path):
    path = tmp_path / "release4.sqlite3"
    release_4_database(path)
    db = Storage(path)
    yield db
    db.close()


def test_the_migration_marks_old_scans_as_seed_scored(migrated):
    assert migrated.schema_version == len(MIGRATIONS)
    assert {s.scored_by for s in migrated.list_scans(1)} == {"seed"}


def test_rescoring_puts_old_scans_on_the_display_scale_and_keeps_the_seed_scores(migrated):
    cal = load_calibration()
    done, failed = migrated.rescore_scans(cal.version, cal.rescore_legacy)
    assert (done, failed) == (1, 1)
    scan = migrated.list_scans(1)[0]
    assert scan.scored_by == cal.version
    assert scan.metrics["seed_scores"] == SEED_SCORES
    assert scan.scores == cal.rescore_legacy(SEED_METRICS)
    assert scan.scores["acne"] < SEED_SCORES["acne"]          # 1.2 % of the skin with acne is not "98.8"


def test_a_scan_without_measurements_is_marked_and_keeps_its_scores(migrated):
    cal = load_calibration()
    migrated.rescore_scans(cal.version, cal.rescore_legacy)
    scan = migrated.list_scans(1)[1]
    assert scan.rescore_failed and scan.scores == SEED_SCORES


def test_rescoring_twice_changes_nothing_more(migrated):
    cal = load_calibration()
    migrated.rescore_scans(cal.version, cal.rescore_legacy)
    first = [(s.scores, s.metrics, s.scored_by) for s in migrated.list_scans(1)]
    assert migrated.rescore_scans(cal.version, cal.rescore_legacy) == (0, 0)
    assert [(s.scores, s.metrics, s.scored_by) for s in migrated.list_scans(1)] == first


def test_a_failing_rescore_leaves_every_scan_as_it_was(migrated):
    before = [(s.scores, s.scored_by) for s in migrated.list_scans(1)]

    def explode(metrics):
        raise RuntimeError("disk gone")
    with pytest.raises(RuntimeError):
        migrated.rescore_scans("cal-new", explode)
    assert [(s.scores, s.scored_by) for s in migrated.list_scans(1)] == before


def test_a_new_scan_records_the_calibration_that_scored_it(tmp_path):
    db = Storage(tmp_path / "new.sqlite3")
    pid = db.get_or_create_profile("Me").id
    cal = load_calibration()
    db.add_scan(pid, taken_at=datetime(2025, 3, 1, tzinfo=timezone.utc), scores={"acne": 80.0},
                metrics={"scored_by": cal.version}, model_version="m")
    assert db.list_scans(pid)[0].scored_by == cal.version
    assert db.rescore_scans(cal.version, cal.rescore_legacy) == (0, 0)
