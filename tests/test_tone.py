"""Skin tone: ITA and its bands, the skin recolouring used by the tone probe and the trainer, and
the lightness normalisation before the model."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from skin_app.scan import face, tone
from skin_app.training import tone_aug
from tests.photos import astronaut_jpeg


@pytest.fixture(scope="module")
def aligned():
    img = np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB"))
    a = face.align_and_crop(img, face.find_faces(img)[0], 384)
    return a.crop, face.face_regions(a.points, 384), face.face_oval_mask(a.points, 384)


@pytest.mark.parametrize("ita, band", [(60, "very_light"), (55.1, "very_light"), (55, "light"), (41.5, "light"),
                                       (30, "intermediate"), (20, "tan"), (0, "brown"), (-30, "dark"),
                                       (-60, "dark")])
def test_ita_bands_follow_chardon(ita, band):
    assert tone.ita_band(ita) == band


def test_ita_of_known_lightness_and_yellowness():
    assert tone.ita_degrees(50.0, 20.0) == pytest.approx(0.0)
    assert tone.ita_degrees(70.0, 20.0) == pytest.approx(45.0)
    assert tone.ita_degrees(30.0, 20.0) == pytest.approx(-45.0)


def test_skin_tone_needs_enough_skin(aligned):
    crop, *_ = aligned
    few = np.zeros(crop.shape[:2], bool)
    few[:5, :5] = True
    assert tone.skin_tone(crop, few) is None


@pytest.mark.parametrize("target", [7.0, -27.0])
@pytest.mark.parametrize("mode", tone_aug.MODES)
def test_recolour_reaches_the_target_ita_inside_the_skin_only(aligned, target, mode):
    crop, regions, oval = aligned
    skin = tone.landmark_skin(regions)
    out = tone_aug.recolour_skin(crop, skin, target, mode)
    after = tone.skin_tone(out, skin)
    assert after.ita == pytest.approx(target, abs=4.0)
    far = ~np.asarray(cv2.dilate(skin.astype(np.uint8), np.ones((9, 9), np.uint8)), bool)
    assert np.abs(out[far].astype(int) - crop[far].astype(int)).max() <= 1      # hair, eyes, background


def test_shift_keeps_local_lightness_differences(aligned):
    crop, regions, oval = aligned
    skin = tone.landmark_skin(regions)
    inner = np.asarray(cv2.erode(skin.astype(np.uint8), np.ones((9, 9), np.uint8)), bool)
    before = tone.to_lab(crop)[..., 0][inner]
    after = tone.to_lab(tone_aug.recolour_skin(crop, skin, 7.0, "shift"))[..., 0][inner]
    assert np.median(after) < np.median(before) - 10
    # One shift for every pixel: texture kept (up to 8-bit rounding and the sRGB gamut's edge).
    assert np.std(after - before) < 2.5
    scaled = tone.to_lab(tone_aug.recolour_skin(crop, skin, 7.0, "scale"))[..., 0][inner]
    assert np.std(after - before) < np.std(scaled - before)


def test_light_skin_is_not_normalised(aligned):
    crop, regions, oval = aligned
    out, t, shift = tone.prepare_crop(crop, regions, oval)
    assert t.lightness >= tone.REFERENCE_SKIN_L and shift == 0.0
    assert out is crop


def test_dark_skin_is_lifted_back_inside_the_face_outline_only(aligned):
    crop, regions, oval = aligned
    skin = tone.landmark_skin(regions)
    dark = tone_aug.recolour_skin(crop, skin, -27.0, "shift")
    out, t, shift = tone.prepare_crop(dark, regions, oval)
    assert t.band == "brown" and 0.0 < shift <= tone.MAX_SHIFT
    lifted = tone.skin_tone(out, skin)
    assert lifted.lightness == pytest.approx(tone.REFERENCE_SKIN_L, abs=2.0)
    assert lifted.b_star == pytest.approx(t.b_star, abs=1.5)
    outside = ~np.asarray(cv2.dilate(oval.astype(np.uint8), np.ones((15, 15), np.uint8)), bool)
    assert np.array_equal(out[outside], dark[outside])                # hair, background
    assert np.abs(out[regions["eyes"]].astype(int) - dark[regions["eyes"]].astype(int)).mean() < 3


def test_random_tone_changes_lightness_without_a_skin_mask(aligned):
    crop, *_ = aligned
    rng = np.random.default_rng(3)
    outs = [tone_aug.random_tone(crop, None, rng) for _ in range(4)]
    assert any(abs(float(tone.to_lab(o)[..., 0].mean() - tone.to_lab(crop)[..., 0].mean())) > 3 for o in outs)
    assert all(o.shape == crop.shape and o.dtype == np.uint8 for o in outs)


def test_black_and_white_photos_get_no_ita(aligned):
    crop, regions, oval = aligned
    grey = np.repeat(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert tone.skin_tone(grey, tone.landmark_skin(regions)) is None
    assert tone.prepare_crop(grey, regions, oval)[2] == 0.0


def test_skin_under_a_blue_or_green_cast_gets_no_ita(aligned):
    # A light face under a green cast read ITA -173 and was counted in the dark band of every fairness table.
    crop, regions, _ = aligned
    skin = tone.landmark_skin(regions)
    assert tone.skin_tone(crop, skin) is not None
    lab = tone.to_lab(crop)
    lab[..., 2] = np.where(skin, lab[..., 2] - np.median(lab[..., 2][skin]) - 6.0, lab[..., 2])   # skin b* about -6
    cast = tone.from_lab(lab)
    assert np.median(tone.to_lab(cast)[..., 2][skin]) < 0
    assert tone.skin_tone(cast, skin) is None and tone.skin_ita(cast, skin) is None


@pytest.mark.parametrize("ita, band", [(-172.9, None), (95.6, None), (90.0, None), (-90.0, None), (None, None),
                                       (float("nan"), None), (-89.0, "dark"), (60.0, "very_light"), (20.0, "tan")])
def test_a_stored_ita_names_a_band_only_inside_the_angles_skin_can_have(ita, band):
    assert tone.band_of(ita) == band


def _record(dataset, name, band, acne_pct, lower_acne):
    scan = {"area_pct": {"acne": acne_pct, "flek": 1.0, "wrinkle": 0.5, "panda_eye": 10.0},
            "lower_face_acne_count": lower_acne}
    return {"dataset": dataset, "name": name, "band": band, "letterbox": scan, "aligned": scan}


def test_band_rows_give_means_and_ratios_to_the_very_light_band():
    from skin_app.training.tone_eval import band_rows
    records = [_record("helen_68lm", "a", "very_light", 0.1, 0), _record("helen_68lm", "b", "very_light", 0.3, 0),
               _record("helen_68lm", "c", "dark", 0.6, 2)]
    rows = {(r["metric"], r["target"]): r for r in band_rows(records, views=("aligned",))}
    assert rows[("aligned/very_light/mean_area_pct", "acne")]["value"] == pytest.approx(0.2)
    assert rows[("aligned/dark/ratio_to_very_light", "acne")]["value"] == pytest.approx(3.0)
    assert rows[("aligned/dark/ratio_to_very_light", "acne")]["n_images"] == 1
    assert ("aligned/light/mean_area_pct", "acne") not in rows          # no face in that band


def test_beard_rows_count_lower_face_acne_on_the_listed_faces_only():
    from skin_app.training.tone_eval import beard_rows
    records = [_record("helen_68lm", "beard", "tan", 0.2, 5), _record("helen_68lm", "clean", "tan", 0.2, 7)]
    rows = beard_rows(records, [{"dataset": "helen_68lm", "name": "beard"}], views=("aligned",))
    by = {r["metric"]: r["value"] for r in rows}
    assert by == {"aligned/lower_face_acne_marks_total": 5, "aligned/faces_with_lower_face_acne": 1}


def _measured(crop, regions, oval):
    """A scan's measurement of ``crop`` with the model's skin taken to be the landmark skin."""
    from skin_app.concerns import CHANNELS
    from skin_app.scan.measure import measure
    prob = {ch: np.zeros(crop.shape[:2], np.float32) for ch in CHANNELS}
    prob["face_skin"][tone.landmark_skin(regions)] = 0.95
    return measure(prob, {ch: 0.5 for ch in CHANNELS}, crop, regions, oval)


def test_a_scan_stores_the_one_ita_definition(aligned):
    crop, regions, oval = aligned
    m = _measured(crop, regions, oval)
    expected = tone.skin_tone(crop, m.skin)
    assert expected is not None
    assert m.metrics["skin_ita"] == expected.ita == tone.skin_ita(crop, m.skin)


def test_a_black_and_white_photo_stores_no_ita(aligned):
    crop, regions, oval = aligned
    grey = np.repeat(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert _measured(grey, regions, oval).metrics["skin_ita"] is None
