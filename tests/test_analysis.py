"""analyze() end to end on a real photo with the shipped model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from skin_app.concerns import CHANNELS, COLOUR_CONCERNS, CONCERNS
from skin_app.errors import FaceError, ImageError
from skin_app.scan import face, quality
from skin_app.scan.analysis import analyze
from tests.photos import astronaut_jpeg, no_face_jpeg


@pytest.fixture(scope="module")
def result(segmenter):
    return analyze(astronaut_jpeg(), segmenter)


def test_returns_all_six_masks_and_the_red_areas_on_the_aligned_crop(result):
    assert set(result.masks) == set(CHANNELS) | set(COLOUR_CONCERNS)
    for m in result.masks.values():
        assert m.shape == result.crop.shape[:2] and m.dtype == bool


def test_face_skin_mask_lies_mostly_inside_the_face_outline(result):
    oval = face.face_oval_mask(_points(result), result.crop.shape[0])
    skin = result.masks["face_skin"]
    assert skin.sum() > 0.5 * oval.sum()                   # finds most of the face
    assert (skin & oval).sum() / skin.sum() > 0.85          # and little outside it


def test_eye_mask_is_on_the_eyes(result):
    eyes = result.regions["eyes"]
    eye = result.masks["eye"]
    assert eye.sum() > 0.4 * eyes.sum()
    assert (eye & _dilate(eyes, 4)).sum() / eye.sum() > 0.8


def test_dark_circle_mask_if_any_is_below_the_eyes_not_on_the_forehead(result):
    panda = result.masks["panda_eye"]
    if panda.any():
        assert (panda & result.regions["forehead"]).sum() < 0.05 * panda.sum()


def test_display_scores_come_from_the_shipped_calibration(result):
    from skin_app.scan.calibration import load_calibration
    assert result.scores == load_calibration().display_scores(result.metrics)
    assert set(result.scores) == {*CONCERNS, "redness", "overall"}
    assert all(0 <= v <= 100 for v in result.scores.values())


def test_seed_scores_keep_the_seed_definition(result):
    seed = result.metrics["seed_scores"]
    for c in CONCERNS:
        assert seed[c] == pytest.approx(100 - 100 * result.metrics["area_fraction"][c], abs=0.01)
    assert seed["overall"] == pytest.approx(np.mean([seed[c] for c in CONCERNS]), abs=0.01)


def test_concern_marks_lie_only_on_scored_skin_or_the_eye_region(result):
    oval = face.face_oval_mask(_points(result), result.crop.shape[0])
    for c in ("acne", "flek", "wrinkle"):
        assert not (result.masks[c] & ~oval).any()
        assert not (result.masks[c] & result.regions["eyes"]).any()
    eye_region = result.regions["eyes"] | result.regions["left_under_eye"] | result.regions["right_under_eye"]
    assert not (result.masks["panda_eye"] & ~eye_region).any()


def test_shown_counts_agree_with_shown_marks(result):
    from skin_app.scan.measure import count_blobs
    assert (result.metrics["acne_lesion_count"] == 0) == (count_blobs(result.masks["acne"]) == 0)
    assert result.metrics["acne_lesion_count"] >= count_blobs(result.masks["acne"])


def test_metrics_are_json_and_carry_the_raw_measurements(result):
    data = json.loads(json.dumps(result.metrics))
    assert {"area_fraction", "soft_fraction", "seed_scores", "under_eye_contrast", "acne_lesion_count",
            "per_region", "face_skin_pixels", "scored_by"} <= set(data)
    assert set(data["per_region"]) >= {"forehead", "left_cheek", "right_cheek", "nose", "chin",
                                        "left_under_eye", "right_under_eye"}


def test_reports_model_version_and_timings(result):
    assert result.model_version.startswith("unet-resnet34-6ch-")
    from skin_app.scan.calibration import load_calibration
    cal = load_calibration()
    assert result.model_version.endswith(cal.version)                  # weights, thresholds and calibration
    assert result.metrics["scored_by"] == cal.scored_by                 # the calibration and the Overall rule
    assert result.timings_ms["segment_ms"] > 0 and result.timings_ms["total_ms"] >= result.timings_ms["segment_ms"]


def test_the_same_photo_gives_the_same_scores(segmenter, result):
    again = analyze(astronaut_jpeg(), segmenter)
    assert again.scores == result.scores


def test_a_photo_without_a_face_raises_face_error_with_advice(segmenter):
    with pytest.raises(FaceError) as e:
        analyze(no_face_jpeg(), segmenter)
    assert e.value.code == "no_face" and e.value.advice
    assert not e.value.quality.ok


def test_a_non_image_raises_image_error(segmenter):
    with pytest.raises(ImageError):
        analyze(b"<html><script>alert(1)</script></html>", segmenter)


def _points(result):
    faces = face.find_faces(_decode(astronaut_jpeg()))
    return face.align_and_crop(_decode(astronaut_jpeg()), faces[0], result.crop.shape[0]).points


def _decode(b):
    from skin_app.scan.imaging import load_image
    return load_image(b).rgb


def _dilate(m, r):
    import cv2
    return cv2.dilate(m.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0


def test_a_face_with_acne_that_needs_care_does_not_read_overall_good(segmenter):
    """Real measurements: clear wrinkles and dark circles no longer lift the Overall of a face whose acne
    needs care (the plain mean read this face about 75, "good")."""
    from skin_app.scan.calibration import OVERALL_LEAD, scan_words, word_for
    from tests.photos import acne_face_jpeg
    r = analyze(acne_face_jpeg(), segmenter)
    assert word_for(r.scores["acne"]) == "needs care"
    assert max(r.scores[c] for c in CONCERNS) >= 90
    assert r.scores["overall"] <= r.scores["acne"] + OVERALL_LEAD
    assert scan_words(r.scores)["overall"].word != "good"


def test_progress_is_reported_step_by_step(segmenter):
    steps = []
    analyze(astronaut_jpeg(), segmenter, progress=steps.append)
    assert steps == ["Reading the photo…", "Finding your face…", "Analysing your skin…", "Scoring…"]


# -- views -------------------------------------------------------------------------------------------
def test_a_side_view_scores_only_the_visible_half_and_what_it_can_see(segmenter):
    from tests.photos import side_view_jpeg
    r = analyze(side_view_jpeg("left"), segmenter, view="left")
    assert r.view == "left" and set(r.scores) == {"acne", "flek", "wrinkle", "redness", "overall"}
    from skin_app.scan.calibration import overall_of
    assert r.scores["overall"] == overall_of(r.scores, ("acne", "flek", "wrinkle"))
    from skin_app.scan.analysis import check_photo
    half = r.regions["left_half"]
    oval = face.face_oval_mask(check_photo(side_view_jpeg("left"), "left").aligned.points, r.crop.shape[0])
    assert 0.3 * oval.sum() < (half & oval).sum() < 0.9 * oval.sum()     # one side of the face, not all of it
    assert r.metrics["face_skin_pixels"] <= (half & oval).sum()


def test_a_front_photo_is_refused_as_a_side_view_and_a_side_view_of_the_other_cheek_too(segmenter):
    from tests.photos import side_view_jpeg
    with pytest.raises(FaceError, match="not a side view"):
        analyze(astronaut_jpeg(), segmenter, view="right")
    with pytest.raises(FaceError, match="shows your left cheek"):
        analyze(side_view_jpeg("left"), segmenter, view="right")


def test_a_close_up_needs_no_face_and_scores_acne_and_dark_spots(segmenter):
    from tests.photos import closeup_jpeg
    with pytest.raises(FaceError, match="No face"):
        analyze(closeup_jpeg(), segmenter)                     # as a front photo it has no face
    r = analyze(closeup_jpeg(), segmenter, view="closeup")
    assert set(r.scores) == {"acne", "flek", "redness", "overall"} and r.metrics["per_region"] == {}
    assert r.crop.shape == (384, 384, 3) and r.faces_found == 0


def test_a_blurred_close_up_is_refused_as_blurry():
    import cv2

    from skin_app.scan.analysis import check_photo
    from tests.photos import closeup_jpeg
    rgb = cv2.imdecode(np.frombuffer(closeup_jpeg(), np.uint8), cv2.IMREAD_COLOR)
    blurred = cv2.imencode(".png", cv2.GaussianBlur(rgb, (0, 0), 3))[1].tobytes()
    checked = check_photo(blurred, "closeup")
    assert [i.code for i in checked.quality.issues if i.blocking] == ["blurry"]


# -- close-ups of skin only ------------------------------------------------------------------------
def test_a_real_skin_close_up_cut_from_a_face_photo_is_scored(segmenter):
    from tests.photos import cheek_closeup_jpeg
    r = analyze(cheek_closeup_jpeg(), segmenter, view="closeup")
    assert set(r.scores) == {"acne", "flek", "redness", "overall"}
    q = r.quality.measurements
    assert q["whole_face"] == 0.0 and q["skin_colour_share"] > 0.8 and q["flat_share"] < 0.1
    assert q["skin_probability"] >= quality.CLOSEUP_MIN_SKIN_PROB


@pytest.mark.parametrize("photo,message", [
    ("room_drawing_png", "looks like a drawing or a screenshot"),
    ("dark_screenshot_png", "looks like a drawing or a screenshot"),
])
def test_a_drawing_or_a_screenshot_is_refused_as_a_close_up_with_advice(segmenter, photo, message):
    from tests import photos
    with pytest.raises(FaceError, match=message) as e:
        analyze(getattr(photos, photo)(), segmenter, view="closeup")
    assert e.value.code == "not_skin" and "patch of your own skin" in e.value.advice


def test_a_whole_face_is_refused_as_a_close_up_and_pointed_to_front(segmenter):
    with pytest.raises(FaceError, match="whole face, not a close-up") as e:
        analyze(astronaut_jpeg(), segmenter, view="closeup")
    assert e.value.code == "whole_face" and "Choose Front" in e.value.advice


def test_a_close_up_with_skin_colour_but_no_skin_texture_or_colour_is_refused_by_each_check():
    from skin_app.scan.analysis import check_photo
    from tests.photos import _encode
    flat_beige = np.full((400, 400, 3), (224, 172, 140), np.uint8)             # skin-coloured, but a flat fill
    codes = [i.code for i in check_photo(_encode(flat_beige), "closeup").quality.issues if i.blocking]
    assert codes == ["not_skin"]
    rng = np.random.default_rng(1)
    green = np.clip(rng.normal((60, 150, 70), 12, (400, 400, 3)), 0, 255).astype(np.uint8)   # textured, not skin
    (issue,) = [i for i in check_photo(_encode(green), "closeup").quality.issues if i.blocking]
    assert issue.code == "not_skin" and "colour of skin" in issue.message


def test_the_model_refuses_a_close_up_where_it_sees_no_skin(segmenter, monkeypatch):
    from tests.photos import cheek_closeup_jpeg
    monkeypatch.setattr(quality, "CLOSEUP_MIN_SKIN_PROB", 1.01)        # nothing is skin enough
    with pytest.raises(FaceError, match="finds almost no skin") as e:
        analyze(cheek_closeup_jpeg(), segmenter, view="closeup")
    assert e.value.quality.measurements["skin_probability"] < 1.01
