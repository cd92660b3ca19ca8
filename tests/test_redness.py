"""Redness from colour (skin_app/scan/redness.py): relative to the person's own skin, melanin-corrected, and
left unmeasured where the photo's colour cannot be read."""
import functools

import numpy as np
import pytest

from skin_app.scan import quality as quality_mod
from skin_app.scan import redness, tone
from skin_app.scan.analysis import check_photo, drop_untrusted_colour, front_geometry
from skin_app.scan.results import QualityReport
from tests.photos import astronaut_jpeg, bright_face_jpeg, flushed_face_jpeg, side_view_jpeg, two_light_face_jpeg


@functools.cache
def _face():
    """A real face: the astronaut's aligned crop, its scored skin (outline minus eyes) and regions."""
    checked = check_photo(astronaut_jpeg())
    regions, oval = front_geometry(checked.aligned)
    return checked.aligned.crop, oval & ~regions["eyes"], regions


def absorb(rgb: np.ndarray, where: np.ndarray, red: float, green: float, blue: float) -> np.ndarray:
    """``rgb`` with extra absorbance (log10 units per channel, in linear light) inside ``where``: what a
    pigment in the skin does to the light it reflects."""
    lin = redness.srgb_to_linear(rgb)
    lin[where] *= 10.0 ** -np.array([red, green, blue], np.float32)
    return np.round(tone.linear_to_srgb(lin)).astype(np.uint8)


def blotch(regions: dict, name: str) -> np.ndarray:
    return regions[name].copy()


# Haemoglobin absorbs green most, blue less, red hardly; melanin more the shorter the wavelength.
HAEMOGLOBIN = (0.01, 0.20, 0.12)
MELANIN = (0.30, 0.49, 0.87)        # 0.3 x (1, 1.63, 2.9): melanin's spectral slope (wavelength^-3.3)


def test_a_red_blotch_is_marked_where_it_is_and_raises_the_share():
    crop, skin, regions = _face()
    before, _ = redness.measure_redness(crop, skin, regions)
    flushed = absorb(crop, blotch(regions, "left_cheek") & skin, *HAEMOGLOBIN)
    after, red = redness.measure_redness(flushed, skin, regions)
    assert after["share"] > before["share"] + 0.05
    cheek = regions["left_cheek"] & red.area               # the cheek's lit part (its shadow is not read)
    assert cheek.sum() > 1000 and red.mask[cheek].mean() > 0.9      # the blotch is on the map
    assert red.mask[regions["forehead"] & skin].mean() < 0.1
    assert after["per_region"]["left_cheek"] > 0.8 > after["per_region"]["forehead"] + 0.5


def test_melanin_leaves_the_corrected_index_alone_while_the_classic_one_calls_it_red():
    crop, skin, regions = _face()
    spot = blotch(regions, "right_cheek") & skin
    tanned = absorb(crop, spot, *MELANIN)
    rise = lambda k: float(np.median(redness.erythema_index(tanned, k)[spot] - redness.erythema_index(crop, k)[spot]))  # noqa: E731
    assert abs(rise(redness.MELANIN_K)) <= 0.02            # neither redder nor less red: melanin is not redness
    assert rise(0.0) > 0.15                                 # the classic index (Diffey) calls a brown spot red


def test_skin_with_less_melanin_than_the_skin_around_it_is_not_red():
    # a tan that leaves one patch lighter (a scar, a strap line; in the tone probe a brow hair inside
    # the skin mask that the darkening left as it was): over-correcting melanin would call it red
    crop, skin, regions = _face()
    lighter = blotch(regions, "left_cheek") & skin
    tanned = absorb(crop, skin & ~lighter, *MELANIN)
    before, _ = redness.measure_redness(crop, skin, regions)
    after, red = redness.measure_redness(tanned, skin, regions)
    assert red.mask[lighter & red.area].mean() < 0.05
    assert after["share"] == pytest.approx(before["share"], abs=0.02)


def test_red_lips_next_to_the_skin_do_not_bleed_into_it():
    crop, skin, regions = _face()
    before, red_before = redness.measure_redness(crop, skin, regions)
    painted = crop.copy()
    painted[~skin] = (200, 40, 50)                          # everything around the skin as red as lips
    after, red_after = redness.measure_redness(painted, skin, regions)
    assert after["share"] == pytest.approx(before["share"], abs=0.002)
    assert (red_after.mask & ~red_before.mask).sum() < 20
    border = skin & ~redness.usable_skin(crop, skin) & redness.usable_skin(np.zeros_like(crop) + 128, skin)
    assert border.any() and not red_after.mask[border].any()    # the skin's own border is not read


def test_a_scan_measured_under_an_older_redness_definition_reads_not_measured():
    from skin_app.scan.calibration import load_calibration
    cal = load_calibration()
    now = {"redness": {"share": 0.05, "version": redness.VERSION}}
    older = {"redness": {"share": 0.05}}                   # stored before redness.version existed
    assert "redness" in cal.display_scores(now)
    assert "redness" not in cal.display_scores(older)


def test_a_brown_spot_is_not_on_the_red_map():
    crop, skin, regions = _face()
    spot = blotch(regions, "right_cheek") & skin
    red = redness.redness_map(absorb(crop, spot, *(v / 2 for v in MELANIN)), skin)
    assert red.mask[spot].mean() < 0.05


@pytest.mark.parametrize("factors", [(0.85, 0.85, 0.85), (1.10, 1.0, 0.90), (0.62, 0.55, 0.45)],
                         ids=["exposure", "white-balance", "darker-skin"])
def test_light_or_tone_that_changes_every_pixel_alike_does_not_move_the_share(factors):
    crop, skin, regions = _face()
    flushed = absorb(crop, blotch(regions, "left_cheek") & skin, *HAEMOGLOBIN)
    base, _ = redness.measure_redness(flushed, skin)
    lin = redness.srgb_to_linear(flushed) * np.array(factors, np.float32)
    shifted = np.round(tone.linear_to_srgb(lin)).astype(np.uint8)
    moved, _ = redness.measure_redness(shifted, skin)
    assert moved["share"] == pytest.approx(base["share"], abs=0.02)


def test_too_little_skin_is_not_measured():
    crop, _, _ = _face()
    tiny = np.zeros(crop.shape[:2], bool)
    tiny[:5, :5] = True
    assert redness.measure_redness(crop, tiny) == (None, None)


def test_the_photo_check_measures_the_skin_colour_and_trusts_an_ordinary_photo():
    checked = check_photo(astronaut_jpeg())
    m = checked.quality.measurements
    assert 15 <= m["skin_hue"] <= 85 and m["skin_chroma"] >= 8
    assert quality_mod.colour_trusted(m)
    assert not [i for i in checked.quality.issues if i.code == "colour_cast"]


def test_a_black_and_white_photo_is_flagged_and_its_redness_is_left_unmeasured():
    import io

    from PIL import Image
    grey = Image.open(io.BytesIO(astronaut_jpeg())).convert("L").convert("RGB")
    buf = io.BytesIO()
    grey.save(buf, format="JPEG", quality=92)
    checked = check_photo(buf.getvalue())
    assert checked.quality.ok                              # the other scores still stand
    issue = next(i for i in checked.quality.issues if i.code == "colour_cast")
    assert "redness is not measured" in issue.message and not issue.blocking
    metrics = {"redness": {"share": 0.0}, "per_region": {"nose": {"acne": 0.0, "redness": 0.0}}}
    masks = {"redness": np.ones((4, 4), bool)}
    drop_untrusted_colour(metrics, masks, checked.quality)
    assert metrics["redness"] is None and metrics["redness_skipped"] == "colour_cast"
    assert "redness" not in metrics["per_region"]["nose"] and not masks["redness"].any()


@pytest.mark.parametrize("photo, figure, limit, why", [
    (two_light_face_jpeg, "skin_side_gap", "LIMIT_SIDE_GAP", "lit in different colours"),
    (bright_face_jpeg, "skin_red_clipped", "LIMIT_RED_CLIPPED", "beyond what the camera can record"),
], ids=["two-colour light", "red channel full"])
def test_light_that_redness_cannot_read_leaves_it_unmeasured_in_words(photo, figure, limit, why):
    checked = check_photo(photo())
    m = checked.quality.measurements
    assert m[figure] > getattr(quality_mod, limit)
    assert checked.quality.ok and not quality_mod.colour_trusted(m)        # the other scores still stand
    assert not [i for i in checked.quality.issues if i.blocking]
    issue = next(i for i in checked.quality.issues if i.code == "colour_cast")
    assert why in issue.message and "redness is not measured" in issue.message


def test_one_light_on_both_halves_reads_as_one_colour():
    m = check_photo(astronaut_jpeg()).quality.measurements
    assert m["skin_side_gap"] < quality_mod.WARN_SIDE_GAP / 2


def test_a_flushed_cheek_is_redness_to_measure_not_light_of_two_colours():
    checked = check_photo(flushed_face_jpeg())
    assert checked.quality.measurements["skin_side_gap"] < quality_mod.WARN_SIDE_GAP
    assert quality_mod.colour_trusted(checked.quality.measurements)
    assert not [i for i in checked.quality.issues if i.code == "colour_cast"]


def test_a_milder_difference_between_the_sides_is_said_but_redness_is_measured():
    checked = check_photo(two_light_face_jpeg(warm=0.33))
    m = checked.quality.measurements
    assert quality_mod.WARN_SIDE_GAP < m["skin_side_gap"] <= quality_mod.LIMIT_SIDE_GAP, m["skin_side_gap"]
    assert quality_mod.colour_trusted(m)
    issue = next(i for i in checked.quality.issues if i.code == "colour_cast")
    assert "lit a little differently" in issue.message


def test_a_side_view_is_not_judged_by_its_two_halves():
    assert "skin_side_gap" not in check_photo(side_view_jpeg("left"), "left").quality.measurements


def test_an_ordinary_photo_has_little_skin_with_a_full_red_channel():
    m = check_photo(astronaut_jpeg()).quality.measurements
    assert m["skin_red_clipped"] < quality_mod.WARN_RED_CLIPPED / 4


def test_the_red_channel_full_share_counts_red_or_green_at_the_top_only_inside_the_area():
    rgb = np.full((10, 10, 3), 120, np.uint8)
    rgb[:2, :, 0] = 255                   # red full on two rows
    rgb[2, :, 1] = redness.CLIPPED_LEVEL  # green full on a third
    rgb[3, :, 2] = 255                    # a full blue channel leaves red and green readable
    area = np.ones((10, 10), bool)
    assert redness.clipped_share(rgb, area) == pytest.approx(0.3)
    area[:2] = False
    assert redness.clipped_share(rgb, area) == pytest.approx(1 / 8)
    assert redness.clipped_share(rgb, np.zeros((10, 10), bool)) is None


def test_a_report_from_an_older_version_without_colour_figures_is_trusted():
    assert quality_mod.colour_trusted(QualityReport().measurements)
