"""Export and import as one contract: every record the app can store comes back from its own export,
in both formats (JSON, CSV ZIP) and through both entry points (the library the page calls, and the CLI),
meaning the same thing: every view (front, left, right, close-up), full-check visits, every scoring state
(scored by a calibration, re-scored from the seed, could not be re-scored, not recorded), pictures,
notes with any text, the shelf, routines with steps and marks. Profiles are generated from seeds, so a
failure names the seed that reproduces it. Exports made before a field existed still import."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta, timezone

import pytest

from skin_app.__main__ import main
from skin_app.concerns import FULL_CHECK, VIEW_CONCERNS, VIEWS
from skin_app.history.export import export_csv_zip, export_json, import_bundle, read_bundle
from skin_app.routines.schedule import Routine, Schedule, Step
from skin_app.storage import Storage
from tests.photos import small_png
from tests.test_export import comparable

SEEDS = range(6)
# Characters a note can hold: quotes and separators, line ends, spreadsheet formula starts, accents,
# right-to-left and non-BMP text.
NOTE_CHARS = list("abc XYZ,;\"'\n\r\t=+-@|éßøΩ中文ب") + ["🙂", "𝔘"]


def scores_for(rng: random.Random, view: str) -> dict[str, float]:
    kept = {c: round(rng.uniform(0, 100), rng.choice([0, 1, 2, 6])) for c in VIEW_CONCERNS[view]}
    kept["overall"] = round(sum(kept.values()) / len(kept), 1)
    return kept


def metrics_for(rng: random.Random, view: str, scored: str) -> dict:
    """Raw measurements shaped as analysis writes them: fractions, counts, per-region values, the view."""
    metrics: dict = {"view": view, "acne_lesion_count": rng.randrange(0, 60),
                     "soft_fraction": {c: rng.random() / 10 for c in VIEW_CONCERNS[view]},
                     "per_region": {r: {"acne": rng.random()} for r in ("forehead", "chin")[: rng.randrange(3)]},
                     "under_eye_contrast": rng.uniform(-5, 15), "timings": [rng.random(), 1e-9, 0.0]}
    if scored:
        metrics["scored_by"] = scored
    if rng.random() < 0.3:
        metrics["ok"] = False                          # re-scoring below cannot score this one
    return metrics


def note(rng: random.Random) -> str:
    return "".join(rng.choice(NOTE_CHARS) for _ in range(rng.randrange(0, 40))).strip()


def make_profile(db: Storage, seed: int) -> int:
    """A profile holding every kind of record the app stores."""
    rng = random.Random(seed)
    pid = db.create_profile(f"Seed {seed}").id
    start = datetime(2024, 1, 1, 7, tzinfo=timezone.utc) + timedelta(days=rng.randrange(300))

    def picture_kw() -> dict:
        if rng.random() < 0.5:
            return {}
        return {"crop_png": small_png(rng.randrange(1, 200)), "masks_png": small_png(rng.randrange(1, 200))}

    for n in range(rng.randrange(len(VIEWS), 9)):                    # single scans of every view
        view = VIEWS[n % len(VIEWS)] if n < len(VIEWS) else rng.choice(VIEWS)
        scored = rng.choice(["", "seed", "cal-2"])
        db.add_scan(pid, taken_at=start + timedelta(days=n, seconds=rng.randrange(86400)), view=view,
                    scores=scores_for(rng, view), metrics=metrics_for(rng, view, scored),
                    model_version=rng.choice(["m1", "m2 (2025-06)"]), note=note(rng), **picture_kw())
    for v in range(rng.randrange(1, 3)):                     # full checks: three views, one visit
        when = start + timedelta(days=40 + v)
        db.add_scans(pid, [dict(taken_at=when, view=view, scores=scores_for(rng, view),
                                metrics=metrics_for(rng, view, "cal-2"), model_version="m2", note=note(rng),
                                visit=f"visit{seed}{v}", **picture_kw()) for view in FULL_CHECK])
    # Re-scoring under a new calibration: some scans re-scored (metrics keep where they came from),
    # some marked as impossible to re-score, those without a recorded calibration left alone.
    db.rescore_scans("cal-3", lambda m: None if m.get("ok") is False else scores_for(rng, m.get("view", "front")))

    products = [db.save_shelf_product(pid, f"Product {seed}-{i}", f"Aqua, Glycerin, Niacinamide {i}%",
                                      inci=["AQUA", "GLYCERIN"], actives={"niacinamide": [f"Niacinamide {i}%"]})
                for i in range(rng.randrange(0, 3))]
    for i in range(rng.randrange(0, 3)):
        steps = [Step(f"Step {k} {note(rng)[:20]}".strip()) for k in range(rng.randrange(1, 4))]
        if products:
            steps.append(Step("Serum", products[0].name, products[0].id))
        r = db.create_routine(pid, Routine(
            f"Routine {i}", Schedule(rng.choice(["daily", "weekdays", "every_n_days"]), time(21, 30), "Europe/Berlin",
                                     date(2025, 3, 1), weekdays=(0, 2, 4), interval_days=rng.randrange(1, 5),
                                     alert_minutes=rng.choice([0, 15, 30])),
            tuple(steps), created_at=datetime(2025, 3, 1, i, tzinfo=timezone.utc)))
        for day in range(rng.randrange(0, 4)):
            db.mark_routine(r.id, date(2025, 3, 3 + day), rng.choice(["done", "skipped"]), profile_id=r.profile_id)
        if rng.random() < 0.5:
            db.mark_routine(r.id, date(2025, 3, 10), "done", step_id=r.steps[0].id, profile_id=r.profile_id)
    return pid


def file_records(data: bytes, fmt: str) -> dict:
    """What a file says, read back: the tables without their file-local ids (they only link rows)."""
    bundle = read_bundle(data, f"x.{fmt}")
    return {table: [{k: v for k, v in row.items() if k != "id"} for row in rows]
            for table, rows in bundle.tables.items() if table in ("scans", "shelf_products", "routines")}


@pytest.mark.parametrize("fmt", ["json", "zip"])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_record_the_app_stores_comes_back_from_its_own_export(db, seed, fmt):
    pid = make_profile(db, seed)
    assert {s.view for s in db.list_scans(pid)} == set(VIEWS)
    build = export_json if fmt == "json" else export_csv_zip
    first = build(db, pid)
    summary = import_bundle(db, read_bundle(first, f"backup.{fmt}"))
    assert summary.created_profile
    assert comparable(db, summary.profile_id) == comparable(db, pid)
    assert file_records(build(db, summary.profile_id), fmt) == file_records(first, fmt)    # export again: same


@pytest.mark.parametrize("fmt", ["json", "zip"])
def test_the_cli_restores_every_record_of_its_own_export(db, tmp_path, capsys, fmt):
    pid = make_profile(db, 99)
    out = tmp_path / f"backup.{fmt}"
    assert main(["history", "export", "--profile", "Seed 99", "--format", fmt, "--out", str(out)]) == 0
    assert main(["history", "import", str(out), "--profile", "Restored"]) == 0
    assert "new profile Restored" in capsys.readouterr().out
    restored = next(p for p in db.list_profiles() if p.name == "Restored")
    assert comparable(db, restored.id) == comparable(db, pid)


@pytest.mark.parametrize("fmt", ["json", "zip"])
def test_a_side_view_close_up_and_full_check_export_imports_into_a_new_profile(db, fmt):
    """The issue's reproducer: refused before with "scores are missing: panda_eye"."""
    pid = db.create_profile("Sides").id
    for view in ("left", "closeup"):
        db.add_scan(pid, taken_at="2025-03-01T08:00:00Z", view=view, scores=scores_for(random.Random(1), view),
                    metrics={"view": view}, model_version="m")
    db.add_scans(pid, [dict(taken_at="2025-03-02T08:00:00Z", view=v, scores=scores_for(random.Random(2), v),
                            metrics={"view": v}, model_version="m", visit="v1") for v in FULL_CHECK])
    data = (export_json if fmt == "json" else export_csv_zip)(db, pid)
    summary = import_bundle(db, read_bundle(data, f"sides.{fmt}"))
    assert summary.scans_added == 5
    assert comparable(db, summary.profile_id) == comparable(db, pid)


def test_an_export_made_before_views_and_scoring_states_were_written_still_imports(db):
    """A version-1 file from before views, visits and ``scored_by`` were exported: a front scan whose
    scores came from the seed is re-scored as before (its calibration is read as "seed")."""
    old = {"format": "skingorithm-profile", "format_version": 1, "exported_at": "2025-01-01T00:00:00+00:00",
           "profile": {"name": "Old", "created_at": "2024-12-01T00:00:00+00:00", "store_pictures": True},
           "scans": [{"id": 1, "taken_at": "2024-12-02T08:00:00+00:00", "note": "", "model_version": "seed",
                      "scores": {"acne": 1, "flek": 2, "wrinkle": 3, "panda_eye": 4, "overall": 2.5},
                      "metrics": {"acne_lesion_count": 2}, "crop_png": None}],
           "shelf_products": [], "routines": [], "routine_steps": [], "routine_log": [], "routine_step_log": []}
    summary = import_bundle(db, read_bundle(json.dumps(old).encode(), "old.json"))
    (scan,) = db.list_scans(summary.profile_id)
    assert (scan.view, scan.visit, scan.scored_by) == ("front", None, "seed")


def noise_png(seed: int, side: int = 200) -> bytes:
    """A picture that does not compress (as a face crop hardly does): about 120 KB."""
    import io

    import numpy as np
    from PIL import Image
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def year_of_scans(db: Storage, n: int = 500) -> int:
    """A profile "Year" of ``n`` daily scans with a stored picture each (500: a bit more than a year; its
    JSON export is about 85 MB); returns its id."""
    pid = db.create_profile("Year").id
    pictures = [noise_png(i) for i in range(4)]
    start = datetime(2024, 1, 1, 8, tzinfo=timezone.utc)
    db.add_scans(pid, [dict(taken_at=start + timedelta(days=k), scores=scores_for(random.Random(k), "front"),
                            metrics=metrics_for(random.Random(k), "front", "cal-2"), model_version="m2",
                            crop_png=pictures[k % 4], masks_png=small_png(k % 50 + 1)) for k in range(n)])
    return pid


def test_a_500_scan_backup_restores_as_json(db, five_hundred_scans):
    data = export_json(db, five_hundred_scans)
    summary = import_bundle(db, read_bundle(data, "year.json"))
    assert summary.scans_added == 500
    assert comparable(db, summary.profile_id) == comparable(db, five_hundred_scans)


def test_a_500_scan_backup_restores_as_a_csv_zip_through_the_cli(db, five_hundred_scans, tmp_path, capsys):
    out = tmp_path / "year.zip"
    assert main(["history", "export", "--profile", "Year", "--format", "zip", "--out", str(out)]) == 0
    assert main(["history", "import", str(out), "--profile", "Restored"]) == 0
    assert "500 scan(s)" in capsys.readouterr().out
    restored = next(p for p in db.list_profiles() if p.name == "Restored")
    assert comparable(db, restored.id) == comparable(db, five_hundred_scans)


def test_an_export_too_large_to_restore_is_refused_with_advice_not_written(db, monkeypatch):
    from skin_app.history import export
    pid = db.create_profile("Big").id
    db.add_scan(pid, taken_at="2025-01-01T08:00:00Z", scores=scores_for(random.Random(0), "front"), metrics={},
                model_version="m", crop_png=noise_png(0))
    monkeypatch.setattr(export, "MAX_IMPORT_BYTES", 50_000)
    with pytest.raises(export.ExportFileError, match="would not restore") as err:
        export_json(db, pid)
    assert "without the face pictures" in err.value.advice
    assert len(export_json(db, pid, include_pictures=False)) < 50_000
