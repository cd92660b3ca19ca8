"""Capture conditions: measured with every scan, stored in its measurements, and two scans taken in
different light, distance or pose are not compared as if the skin had changed."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from skin_app.history.progress import DIFFERENT_CONDITIONS, SCORE_KEYS, NoiseBand, compare_scores
from skin_app.scan import conditions
from skin_app.scan.analysis import analyze
from tests.photos import astronaut_jpeg

BAND = NoiseBand({k: 2.0 for k in SCORE_KEYS}, True, "test")


def dimmed(factor: float) -> bytes:
    rgb = np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB")).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray((rgb * factor).round().astype(np.uint8)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@pytest.fixture(scope="module")
def pair(segmenter):
    return analyze(astronaut_jpeg(), segmenter), analyze(dimmed(0.7), segmenter)


def test_every_scan_carries_its_light_colour_distance_and_pose(pair):
    c = pair[0].metrics["conditions"]
    assert set(c) == set(conditions.KEYS)
    assert 60 < c["exposure"] < 220 and c["face_width_px"] > 80 and abs(c["yaw"]) < 30


def test_the_same_face_at_70_percent_brightness_is_marked_as_taken_in_darker_light(pair):
    before, after = (r.metrics["conditions"] for r in pair)
    assert after["exposure"] == pytest.approx(0.7 * before["exposure"], rel=0.08)
    (words,) = conditions.differences(before, after)
    assert words.startswith("darker light")
    assert conditions.differences(before, before) == []


def test_a_change_between_scans_in_different_light_is_never_called_real(pair):
    before, after = pair
    unlike = conditions.differences(before.metrics["conditions"], after.metrics["conditions"])
    changes = compare_scores(before.scores, after.scores, BAND, conditions=unlike)
    assert not any(c.real for c in changes)
    moved = [c for c in changes if abs(c.delta) > 2.0]
    assert all(c.verdict == DIFFERENT_CONDITIONS and "different conditions" in c.describe() for c in moved)


@pytest.mark.parametrize("change,words", [
    ({"exposure": 130.0}, "brighter light"),
    ({"cast_red": 0.45}, "light of another colour"),
    ({"face_width_px": 500.0}, "camera closer"),
    ({"yaw": 16.0}, "head turned"),
])
def test_each_condition_has_its_own_words(change, words):
    base = {"exposure": 100.0, "cast_red": 0.3, "cast_blue": -0.2, "face_width_px": 300.0, "yaw": 2.0, "pitch": 0.0}
    (said,) = conditions.differences(base, {**base, **change})
    assert words in said
    small = {"exposure": 110.0, "cast_red": 0.36, "face_width_px": 400.0, "yaw": 12.0}
    assert conditions.differences(base, {**base, **small}) == []              # within the re-shots' spread


def test_a_scan_stored_before_conditions_existed_falls_back_to_its_photo_check_and_knows_no_light():
    old = {"quality": {"yaw": 3.0, "pitch": 1.0, "face_width_px": 250.0, "p98_luminance": 200.0}}
    assert conditions.of_scan(old) == {"yaw": 3.0, "pitch": 1.0, "face_width_px": 250.0}
    assert conditions.of_scan({}) == {} and conditions.differences({}, {"exposure": 90.0}) == []


def test_the_usual_conditions_are_the_median_of_recent_scans():
    history = [{"exposure": 100.0}, {"exposure": 110.0}, {"exposure": 40.0, "yaw": 5.0}]
    assert conditions.usual(history) == {"exposure": 100.0, "yaw": 5.0}


def test_conditions_travel_with_an_export_and_an_older_export_without_them_still_imports(db):
    from skin_app.history.export import export_json, import_bundle, read_bundle
    p = db.create_profile("Ada")
    cond = {"exposure": 120.0, "cast_red": 0.3, "cast_blue": -0.2, "yaw": 1.0}
    scores = {"acne": 90.0, "flek": 90.0, "wrinkle": 90.0, "panda_eye": 90.0, "overall": 90.0}
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00+00:00", scores=scores, model_version="m",
                metrics={"conditions": cond})
    db.add_scan(p.id, taken_at="2025-03-02T08:00:00+00:00", scores=scores, model_version="m",
                metrics={"quality": {"yaw": 2.0}})                       # stored before conditions existed
    summary = import_bundle(db, read_bundle(export_json(db, p.id), "ada.json"))
    first, second = db.list_scans(summary.profile_id)
    assert conditions.of_scan(first.metrics) == cond and conditions.of_scan(second.metrics) == {"yaw": 2.0}
