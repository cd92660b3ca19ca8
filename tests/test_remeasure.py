"""Redness read later from a scan's kept picture (skin_app/history/remeasure.py): for scans saved before
redness was measured; the other scores stay as saved."""
import functools

import numpy as np
import pytest

from skin_app.concerns import CONCERNS
from skin_app.errors import InvalidRecordError
from skin_app.history import remeasure
from skin_app.history.save import scan_row
from skin_app.scan.analysis import analyze
from skin_app.scan.pictures import crop_to_png, masks_to_png, png_to_masks
from tests.photos import astronaut_jpeg, cheek_closeup_jpeg, flushed_face_jpeg, no_face_jpeg, side_view_jpeg


@functools.cache
def _astronaut():
    return analyze(astronaut_jpeg())


def old_scan(result, **changes) -> dict:
    """``result`` stored as a version before redness stored it: no redness score, measure or mask."""
    row = scan_row(result, "2026-11-01T09:00:00", note="before redness")
    row["scores"] = {k: v for k, v in row["scores"].items() if k != "redness"}
    row["metrics"] = {k: v for k, v in row["metrics"].items() if k != "redness"}
    row["masks_png"] = masks_to_png({c: result.masks[c] for c in CONCERNS})
    row.update(changes)
    return row


def test_a_scan_saved_before_redness_gets_it_from_its_kept_picture_close_to_the_photos_own(db):
    result = _astronaut()
    profile = db.create_profile("Ana")
    scan_id = db.add_scan(profile.id, **old_scan(result))
    assert [s.id for s in remeasure.waiting(db, profile.id)] == [scan_id]

    report = remeasure.remeasure_redness(db, profile.id)

    assert report.measured == [scan_id] and report.not_measured == {}
    scan = db.get_scan(scan_id)
    assert abs(scan.scores["redness"] - result.scores["redness"]) <= remeasure.AGREEMENT_POINTS
    assert {k: v for k, v in scan.scores.items() if k != "redness"} == \
        {k: v for k, v in result.scores.items() if k != "redness"}          # the model's scores and Overall stay
    assert scan.metrics["redness"]["version"] == result.metrics["redness"]["version"]
    assert scan.metrics["redness_remeasured"]["from"] == remeasure.FROM_PICTURE
    assert any("redness" in shares for shares in scan.metrics["per_region"].values())
    masks = png_to_masks(scan.masks_png)
    assert masks["redness"].any() == result.masks["redness"].any()
    assert all(np.array_equal(masks[c], png_to_masks(old_scan(result)["masks_png"])[c]) for c in CONCERNS)
    assert remeasure.waiting(db, profile.id) == []                         # done once
    assert remeasure.remeasure_redness(db, profile.id).measured == []


def test_the_red_areas_are_moved_back_onto_the_kept_picture():
    result = analyze(flushed_face_jpeg())                                   # one cheek flushed
    assert result.masks["redness"].sum() > 1000
    found = remeasure.redness_of_picture(crop_to_png(result.crop), "front")
    assert found.mask is not None and found.mask.shape == (256, 256)
    stored = png_to_masks(masks_to_png({"redness": result.masks["redness"]}))["redness"]
    overlap = (found.mask & stored).sum() / max((found.mask | stored).sum(), 1)
    assert overlap > 0.5, overlap                                           # the same cheeks, not a shifted copy


def test_scans_without_a_picture_or_whose_colour_was_refused_are_left_alone(db):
    result = _astronaut()
    profile = db.create_profile("Ana")
    no_picture = db.add_scan(profile.id, **old_scan(result, crop_png=None, masks_png=None))
    refused = old_scan(result)
    refused["metrics"] = {**refused["metrics"], "redness": None, "redness_skipped": "colour_cast"}
    refused_id = db.add_scan(profile.id, **refused)
    too_little_skin = old_scan(result)
    too_little_skin["metrics"] = {**too_little_skin["metrics"], "redness": None}    # today's measure, none read
    db.add_scan(profile.id, **too_little_skin)
    assert remeasure.waiting(db, profile.id) == []
    assert remeasure.remeasure_redness(db, profile.id).measured == []
    assert "redness" not in db.get_scan(no_picture).scores and "redness" not in db.get_scan(refused_id).scores


def test_a_scan_measured_under_redness_version_1_is_measured_again():
    result = _astronaut()
    row = old_scan(result)
    row["metrics"] = {**row["metrics"], "redness": {**result.metrics["redness"], "version": 1}}
    from skin_app.storage.scans import StoredScan
    scan = StoredScan(1, 1, row["taken_at"], "", row["scores"], row["metrics"], "m", row["crop_png"], row["masks_png"])
    assert remeasure.needs_redness(scan)
    assert not remeasure.needs_redness(StoredScan(1, 1, row["taken_at"], "", row["scores"],
                                                  {**row["metrics"], "redness": result.metrics["redness"]}, "m",
                                                  row["crop_png"], row["masks_png"]))


def test_a_picture_without_a_face_keeps_not_measured_with_its_reason_and_is_not_tried_again(db):
    import cv2
    profile = db.create_profile("Ana")
    cup = cv2.cvtColor(cv2.imdecode(np.frombuffer(no_face_jpeg(), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    scan_id = db.add_scan(profile.id, **old_scan(_astronaut(), crop_png=crop_to_png(cup)))

    report = remeasure.remeasure_redness(db, profile.id)

    assert report.measured == [] and list(report.not_measured) == [scan_id]
    assert "No face" in report.not_measured[scan_id] and "could not be measured" in report.describe()
    scan = db.get_scan(scan_id)
    assert "redness" not in scan.scores
    assert scan.metrics["redness_remeasured"]["not_measured"] == report.not_measured[scan_id]
    assert remeasure.waiting(db, profile.id) == []


def test_storage_writes_new_measurements_only_into_the_profiles_own_scan_and_checks_them(db):
    ana, ben = db.create_profile("Ana"), db.create_profile("Ben")
    row = old_scan(_astronaut())
    scan_id = db.add_scan(ana.id, **row)
    with pytest.raises(InvalidRecordError, match="no scan"):
        db.update_scan_measurements(scan_id, ben.id, scores=row["scores"], metrics=row["metrics"], masks_png=None)
    with pytest.raises(InvalidRecordError, match="between 0 and 100"):
        db.update_scan_measurements(scan_id, ana.id, scores={**row["scores"], "redness": 140.0},
                                    metrics=row["metrics"], masks_png=None)
    assert db.get_scan(scan_id).scores == db.get_scan(scan_id).scores | row["scores"]
    assert "redness" not in db.get_scan(scan_id).scores


def test_damaged_stored_masks_still_get_the_score_and_keep_their_bytes(db):
    profile = db.create_profile("Ana")
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40                    # a PNG header and nothing behind it
    scan_id = db.add_scan(profile.id, **old_scan(_astronaut(), masks_png=broken))
    assert remeasure.remeasure_redness(db, profile.id).measured == [scan_id]
    scan = db.get_scan(scan_id)
    assert "redness" in scan.scores and scan.masks_png == broken


@pytest.mark.parametrize("view, photo", [("left", lambda: side_view_jpeg("left")), ("closeup", cheek_closeup_jpeg)])
def test_side_views_and_close_ups_are_read_from_their_kept_picture_too(view, photo):
    """A kept close-up is soft (256 px of a patch of skin): the photo check's detail rules do not refuse it,
    since redness is read from colour."""
    result = analyze(photo(), view=view)
    found = remeasure.redness_of_picture(crop_to_png(result.crop), view)
    assert found.reason == "" and abs(found.score - result.scores["redness"]) <= remeasure.AGREEMENT_POINTS
