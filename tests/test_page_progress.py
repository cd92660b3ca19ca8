"""The Progress page driven as a person would: chart with the noise band, compare two scans, the
history, deleting a scan, exporting and importing, and switching profile in the sidebar."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from skin_app.history import progress
from skin_app.scan.pictures import masks_to_png
from tests.app_helpers import SCORES, app, button, figure, page, texts
from tests.photos import small_png
from tests.test_export import comparable


@pytest.fixture(autouse=True)
def measured_band(tmp_path, monkeypatch):
    """A measured noise band of 2 points for every score (the page reads models/noise_band.json)."""
    path = tmp_path / "noise_band.json"
    path.write_text(json.dumps({k: 2.0 for k in progress.SCORE_KEYS}))
    monkeypatch.setattr(progress, "NOISE_BAND_PATH", path)


def masks_png() -> bytes:
    m = np.zeros((64, 64), bool)
    m[10:20, 10:20] = True
    return masks_to_png({"acne": m, "flek": m.T, "wrinkle": np.zeros_like(m), "panda_eye": m[::-1]}, size=64)


@pytest.fixture()
def ada(db):
    """Three scans a week apart: overall 90 -> 91 (noise) -> 95 (real), acne 96 -> 90 (worse)."""
    p = db.create_profile("Ada")
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00+00:00", scores={**SCORES, "overall": 90.0}, metrics={"acne_lesion_count": 4},
                model_version="m1", note="start", crop_png=small_png(1), masks_png=masks_png())
    db.add_scan(p.id, taken_at="2025-03-08T08:00:00+00:00", scores={**SCORES, "overall": 91.0}, metrics={},
                model_version="m1", note="no picture")
    db.add_scan(p.id, taken_at="2025-03-15T08:00:00+00:00", scores={**SCORES, "overall": 95.0, "acne": 90.0},
                metrics={"acne_lesion_count": 9}, model_version="m1", note="latest", crop_png=small_png(3),
                masks_png=masks_png())
    return p


def run(db_profile_id=None):
    at = page("progress")
    if db_profile_id is not None:
        at.session_state["profile_id"] = db_profile_id
    return at.run()


def test_a_profile_without_scans_is_invited_to_scan_and_can_still_import(db):
    db.create_profile("Ada")
    at = run()
    assert not at.exception
    assert any("No saved scans for Ada yet" in t for t in texts(at.info))
    assert not at.get("plotly_chart")
    assert at.file_uploader and button(at, "Import")


def test_the_chart_shows_every_scan_and_the_noise_band_around_the_first(db, ada):
    at = run(ada.id)
    assert not at.exception
    fig = figure(at, "progress_chart")
    band, line = fig["data"][0], fig["data"][1]
    assert band["name"] == "Noise band (±2.0)" and band["fill"] == "toself"
    assert sorted(band["y"]) == [88.0, 88.0, 92.0, 92.0]              # first scan's 90 ± 2
    assert line["y"] == [90.0, 91.0, 95.0]
    assert "within noise" in line["hovertext"][1] and "better" in line["hovertext"][2]


def test_the_summary_calls_only_a_change_beyond_the_band_progress(db, ada):
    at = run(ada.id)
    assert any("Overall: 90 → 95 (+5.0) ▲ better, beyond the ±2.0 noise band" in t for t in texts(at.success))
    at.selectbox(key="progress_key").set_value("flek").run()
    assert any("within the ±2.0 noise band, so not a real change" in t for t in texts(at.info))
    assert figure(at, "progress_chart")["data"][1]["name"] == "Dark spots score"


def test_without_a_measurement_the_page_says_it_uses_the_default_band(db, ada, monkeypatch, tmp_path):
    monkeypatch.setattr(progress, "NOISE_BAND_PATH", tmp_path / "absent.json")
    at = run(ada.id)
    assert any("Noise band: a default estimate" in c.value for c in at.caption)


def test_comparing_the_first_and_latest_scan_shows_changes_with_arrows(db, ada):
    at = run(ada.id)
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Overall"] == ("95.0", "+5.0")
    assert metrics["Acne"] == ("90.0", "-6.0")
    assert metrics["Dark spots"] == ("92.0", "+0.0 (noise)")
    bars = figure(at, "compare_chart")["data"][1]
    assert bars["text"][0] == "▲ +5.0" and bars["text"][1] == "▼ -6.0"
    assert len(at.image) == 2                                          # both scans kept a picture


def test_a_scan_without_a_picture_is_compared_by_its_scores_only(db, ada, overlay_calls):
    at = run(ada.id)
    second = db.list_scans(ada.id)[1].id
    at.selectbox(key="cmp_b").set_value(second).run()
    assert len(at.image) == 1
    assert any("No picture was stored with this scan" in t for t in texts(at.info))
    assert {m.label: m.delta for m in at.metric}["Overall"] == "+1.0 (noise)"


def test_overlay_toggles_choose_which_concerns_are_drawn_on_both_photos(db, ada, overlay_calls):
    at = run(ada.id)
    assert overlay_calls[-2:] == [["acne", "flek", "wrinkle", "panda_eye", "redness"]] * 2
    overlay_calls.clear()
    at.button_group(key="cmp_overlay").set_value(["acne"]).run()
    assert overlay_calls == [["acne"], ["acne"]]
    overlay_calls.clear()
    at.button_group(key="cmp_overlay").set_value([]).run()
    assert overlay_calls == [] and len(at.image) == 2                  # plain photos, no marks


def test_the_history_table_lists_the_scans_newest_first(db, ada):
    at = run(ada.id)
    table = at.dataframe[0].value
    assert list(table["Note"]) == ["latest", "no picture", "start"]
    assert list(table["Overall"]) == [95.0, 91.0, 90.0]
    assert list(table["Picture"]) == ["yes", "no", "yes"]
    assert list(table["Acne lesions"])[0] == 9


def test_deleting_a_scan_needs_confirmation_and_removes_it(db, ada):
    at = run(ada.id)
    first = db.list_scans(ada.id)[0]
    at.selectbox(key="delete_pick").set_value(first.id).run()
    assert button(at, "Delete scan").disabled
    at.checkbox(key="delete_sure").check().run()
    button(at, "Delete scan").click().run()
    assert not at.exception
    assert [s.note for s in db.list_scans(ada.id)] == ["no picture", "latest"]
    assert any("Deleted the scan of 01 Mar 2025" in t.replace("\\", "") for t in texts(at.success))


def test_export_holds_only_the_active_profiles_data_as_json_and_csv(db, ada, downloads):
    bob = db.create_profile("Bob")
    db.add_scan(bob.id, taken_at="2025-03-02T08:00:00+00:00", scores=SCORES, metrics={}, model_version="m1", note="bob's")
    at = run(ada.id)
    assert not at.exception
    doc = json.loads(downloads["skingorithm-ada.json"])
    assert doc["profile"]["name"] == "Ada"
    assert [s["note"] for s in doc["scans"]] == ["start", "no picture", "latest"]
    zf = zipfile.ZipFile(io.BytesIO(downloads["skingorithm-ada-csv.zip"]))
    assert zf.read("scans.csv").decode().count("\n") == 4              # header + 3 scans
    assert "pictures/scan-1.png" in zf.namelist()


def test_the_exports_are_built_only_when_their_button_is_clicked(db, ada, downloads, monkeypatch):
    from skin_app.history import export
    built = []

    def counted(real):
        return lambda *a, **k: built.append(1) or real(*a, **k)
    for name in ("export_json", "export_csv_zip"):
        monkeypatch.setattr(export, name, counted(getattr(export, name)))
    at = run(ada.id)
    at.selectbox(key="progress_key").set_value("flek").run()
    assert not at.exception and built == []                          # a year of scans is tens of MB
    assert json.loads(downloads["skingorithm-ada.json"])["profile"]["name"] == "Ada" and built == [1]


def test_export_can_leave_the_pictures_out(db, ada, downloads):
    at = run(ada.id)
    at.checkbox(key="export_pictures").uncheck().run()
    doc = json.loads(downloads["skingorithm-ada.json"])
    assert all(s["crop_png"] is None for s in doc["scans"])


def test_an_export_imported_as_a_new_profile_brings_every_scan_back(db, ada, downloads):
    at = run(ada.id)
    data = downloads["skingorithm-ada.json"]
    at.file_uploader(key="import_file").set_value(("ada.json", data, "application/json")).run()
    at.radio(key="import_target").set_value("a new profile").run()
    button(at, "Import").click().run()
    assert not at.exception
    assert any("Imported into the new profile Ada (2): 3 scan(s)" in t.replace("\\", "") for t in texts(at.success))
    new = [p for p in db.list_profiles() if p.name == "Ada (2)"][0]
    assert [s.note for s in db.list_scans(new.id)] == ["start", "no picture", "latest"]
    assert db.list_scans(new.id)[0].crop_png == small_png(1)


def test_importing_into_the_same_profile_skips_what_is_already_there(db, ada, downloads):
    at = run(ada.id)
    data = downloads["skingorithm-ada-csv.zip"]
    at.file_uploader(key="import_file").set_value(("ada.zip", data, "application/zip")).run()
    button(at, "Import").click().run()
    assert any("0 scan(s)" in t and "3 already there and skipped" in t for t in texts(at.success))
    assert len(db.list_scans(ada.id)) == 3


def test_a_500_scan_export_larger_than_the_old_25_mb_imports_back_from_the_page(db, five_hundred_scans, downloads):
    """Issue 26: backups stopped restoring from the page at about 135 scans (its uploader took 25 MB)."""
    at = run(five_hundred_scans)
    data = downloads["skingorithm-year.json"]
    assert len(data) > 25 * 2**20
    uploader = at.file_uploader(key="import_file")
    assert uploader.proto.max_upload_size_mb * 2**20 >= len(data)        # what the browser lets through
    uploader.set_value(("skingorithm-year.json", data, "application/json")).run()
    at.radio(key="import_target").set_value("a new profile").run()
    button(at, "Import").click().run()
    assert not at.exception and not at.warning
    assert any("Imported into the new profile Year (2): 500 scan(s)" in t.replace("\\", "") for t in texts(at.success))
    restored = next(p for p in db.list_profiles() if p.name == "Year (2)")
    assert comparable(db, restored.id) == comparable(db, five_hundred_scans)


def test_a_file_larger_than_any_export_gets_words_not_a_crash(db, ada, downloads, monkeypatch):
    from skin_app.history import export
    at = run(ada.id)
    data = downloads["skingorithm-ada.json"]
    monkeypatch.setattr(export, "MAX_IMPORT_BYTES", len(data) - 1)
    at.file_uploader(key="import_file").set_value(("big.json", data, "application/json")).run()
    button(at, "Import").click().run()
    assert not at.exception
    assert any("larger than" in t and "more than any export this app writes" in t for t in texts(at.warning))
    assert len(db.list_profiles()) == 1 and len(db.list_scans(ada.id)) == 3


def test_a_file_that_is_not_an_export_gets_advice_not_a_traceback(db, ada):
    at = run(ada.id)
    at.file_uploader(key="import_file").set_value(("x.json", b'{"hello": "world"}', "application/json")).run()
    button(at, "Import").click().run()
    assert not at.exception
    assert any("not a SkinGorithm profile export" in t for t in texts(at.warning))
    assert len(db.list_profiles()) == 1



def test_an_export_with_a_400_digit_measurement_is_refused_on_the_page_in_words(db, ada):
    """Issue 26: such a file once imported, and every page failed from the next start on."""
    from tests.hostile import export_with_a_400_digit_measurement
    at = run(ada.id)
    at.file_uploader(key="import_file").set_value(("digits.json", export_with_a_400_digit_measurement(),
                                                   "application/json")).run()
    at.radio(key="import_target").set_value("a new profile").run()
    button(at, "Import").click().run()
    assert not at.exception
    assert any("metrics holds a number far too large" in t for t in texts(at.warning))
    assert [p.name for p in db.list_profiles()] == ["Ada"] and len(db.list_scans(ada.id)) == 3

def test_switching_profile_in_the_sidebar_shows_only_that_profiles_scans(db, ada):
    bob = db.create_profile("Bob")
    db.add_scan(bob.id, taken_at="2025-03-02T08:00:00+00:00", scores=SCORES, metrics={}, model_version="m1", note="bob's")
    at = app()
    at.session_state["profile_id"] = ada.id
    at.run()
    at.switch_page("app_pages/progress.py").run()
    assert not at.exception
    assert list(at.dataframe[0].value["Note"]) == ["latest", "no picture", "start"]
    at.sidebar.selectbox(key="profile_pick").set_value(bob.id).run()
    assert list(at.dataframe[0].value["Note"]) == ["bob's"]
    assert at.session_state["profile_id"] == bob.id


def test_a_new_profile_can_be_added_from_the_sidebar_and_becomes_active(db, ada):
    at = app()
    at.run()
    at.switch_page("app_pages/progress.py").run()
    at.sidebar.text_input(key="profile_new_name").input("Grandma").run()
    [b for b in at.sidebar.button if b.label == "Add"][0].click().run()
    assert not at.exception
    grandma = [p for p in db.list_profiles() if p.name == "Grandma"][0]
    assert at.session_state["profile_id"] == grandma.id
    assert any("No saved scans for Grandma yet" in t for t in texts(at.info))


def test_a_name_already_taken_is_refused_in_words_and_stays_typed_to_correct(db, ada):
    at = app()
    at.run()
    at.sidebar.text_input(key="profile_new_name").input(ada.name).run()
    [b for b in at.sidebar.button if b.label == "Add"][0].click().run()
    assert not at.exception
    assert [p.name for p in db.list_profiles()] == [ada.name]
    assert any("already exists" in w.value for w in at.sidebar.warning)
    assert at.sidebar.text_input(key="profile_new_name").value == ada.name
    assert at.session_state["profile_id"] == ada.id


def test_each_view_has_its_own_line_never_mixed_with_front_scans(db, ada):
    db.add_scan(ada.id, taken_at="2025-03-10T08:00:00+00:00", scores={"acne": 80.0, "flek": 99.0, "wrinkle": 99.0,
                "overall": 92.67}, metrics={}, model_version="m1", view="left")
    at = run()
    assert not at.exception
    assert at.button_group(key="progress_view").value == "front"
    at.selectbox(key="progress_key").set_value("acne").run()
    ys = [y for t in figure(at, "progress_chart")["data"] if t.get("name") == "Acne score" for y in t["y"]]
    assert ys == [96.0, 96.0, 90.0]                                 # the front scans only
    at.button_group(key="progress_view").set_value("left").run()
    assert "panda_eye" not in at.selectbox(key="progress_key").options and "Dark circles" not in at.selectbox(key="progress_key").options
    at.selectbox(key="progress_key").set_value("acne").run()
    ys = [y for t in figure(at, "progress_chart")["data"] if t.get("name") == "Acne score" for y in t["y"]]
    assert ys == [80.0]


def test_the_active_profile_is_named_in_the_address_and_a_new_session_starts_with_it(db, ada):
    bob = db.create_profile("Bob")
    at = app()
    at.run()
    at.sidebar.selectbox(key="profile_pick").set_value(bob.id).run()
    assert at.query_params["profile"] == [str(bob.id)]
    reloaded = app()                           # a reload: a new session with the same address
    reloaded.query_params["profile"] = str(bob.id)
    reloaded.run()
    assert reloaded.session_state["profile_id"] == bob.id and reloaded.sidebar.selectbox(key="profile_pick").value == bob.id


@pytest.mark.parametrize("name, kind", [("skingorithm-sides.json", "application/json"),
                                        ("skingorithm-sides-csv.zip", "application/zip")])
def test_a_profile_of_side_views_and_a_full_check_restores_from_its_own_export(db, downloads, name, kind):
    """Issue 23's reproducer: such exports were refused ("scores are missing: panda_eye")."""
    sides = db.create_profile("Sides")
    side = {"acne": 90.0, "flek": 80.0, "wrinkle": 70.0, "overall": 80.0}
    db.add_scan(sides.id, taken_at="2025-03-01T08:00:00+00:00", scores=side, metrics={"view": "left"},
                model_version="m1", view="left", crop_png=small_png(1))
    db.add_scan(sides.id, taken_at="2025-03-01T08:01:00+00:00", scores={"acne": 90.0, "flek": 80.0, "overall": 85.0},
                metrics={"view": "closeup"}, model_version="m1", view="closeup")
    db.add_scans(sides.id, [dict(taken_at="2025-03-02T08:00:00+00:00", scores=SCORES if v == "front" else side,
                                 metrics={"view": v}, model_version="m1", view=v, visit="full1") for v in
                            ("front", "left", "right")])
    at = run(sides.id)
    at.file_uploader(key="import_file").set_value((name, downloads[name], kind)).run()
    at.radio(key="import_target").set_value("a new profile").run()
    button(at, "Import").click().run()
    assert not at.exception and not at.warning
    assert any("Imported into the new profile Sides (2): 5 scan(s)" in t.replace("\\", "") for t in texts(at.success))
    new = next(p for p in db.list_profiles() if p.name == "Sides (2)")
    assert db.scan_views(new.id) == db.scan_views(sides.id) == {"front": 1, "left": 2, "right": 1, "closeup": 1}
    assert {s.visit for s in db.list_scans(new.id)} == {None, "full1"}


@pytest.fixture()
def dim(db):
    """Two front scans: the second in much darker light, dark circles 'worse' by 11 points."""
    p = db.create_profile("Dim")
    light = {"exposure": 150.0, "cast_red": 0.3, "cast_blue": -0.2, "face_width_px": 300.0, "yaw": 1.0, "pitch": 0.0}
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00+00:00", scores={**SCORES, "panda_eye": 68.0},
                metrics={"conditions": light}, model_version="m1")
    db.add_scan(p.id, taken_at="2025-03-08T08:00:00+00:00", scores={**SCORES, "panda_eye": 57.0},
                metrics={"conditions": {**light, "exposure": 100.0}}, model_version="m1")
    return p


def test_a_change_between_scans_in_different_light_is_not_called_real_anywhere(db, dim):
    at = run(dim.id)
    assert not at.exception
    at.selectbox(key="progress_key").set_value("panda_eye").run()
    summary = [t for t in texts(at.info) if t.startswith("Since your first scan")]
    assert summary and "taken in different conditions (darker light (skin brightness 150 → 100))" in summary[0]
    assert not [t for t in texts(at.warning) if "worse" in t]
    line = figure(at, "progress_chart")["data"][1]
    assert line["marker"]["symbol"] == ["circle", "circle-open"]
    assert "taken in darker light" in line["hovertext"][1]
    (warning,) = [t for t in texts(at.warning) if "different conditions" in t]
    assert "no change between them is counted as real" in warning
    assert {m.label: m.delta for m in at.metric}["Dark circles"] == "-11.0 (not counted)"
    assert figure(at, "compare_chart")["data"][1]["text"][list(progress.SCORE_KEYS).index("panda_eye")] == "≠ -11.0"


def test_a_new_tab_opens_the_profile_used_last_not_the_first_by_name(db, ada):
    bob = db.create_profile("Bob")
    run(bob.id)                                     # Bob's progress, in one tab
    at = run()                                      # a new tab: no session, no profile in the address
    assert at.session_state["profile_id"] == bob.id
    assert any("No saved scans for Bob yet" in t for t in texts(at.info))


def test_the_charts_toolbar_stands_at_the_side_not_over_the_title(db, ada):
    at = run(ada.id)
    for key in ("progress_chart", "compare_chart"):
        assert figure(at, key)["layout"]["modebar"]["orientation"] == "v"


@pytest.fixture()
def two_visits(db):
    """Two full checks a month apart; the left cheek's acne 80 -> 60 (worse), the front taken in darker light."""
    p = db.create_profile("Vi")
    light = {"exposure": 150.0, "cast_red": 0.3, "cast_blue": -0.2}
    for day, acne, front_light in (("2025-03-01", 80.0, 150.0), ("2025-04-01", 60.0, 100.0)):
        side = {"acne": acne, "flek": 90.0, "wrinkle": 95.0, "overall": min(88.3, acne + 15)}
        db.add_scans(p.id, [
            dict(taken_at=f"{day}T08:00:00+00:00", view="front", visit=f"v{day}", model_version="m1",
                 scores={**SCORES, "acne": acne, "overall": 80.0}, metrics={"conditions": {**light, "exposure": front_light}},
                 crop_png=small_png(1), masks_png=masks_png()),
            dict(taken_at=f"{day}T08:01:00+00:00", view="left", visit=f"v{day}", model_version="m1", scores=side,
                 metrics={"conditions": light}, crop_png=small_png(2), masks_png=masks_png()),
            dict(taken_at=f"{day}T08:02:00+00:00", view="right", visit=f"v{day}", model_version="m1",
                 scores={**side, "acne": 90.0, "overall": 88.3}, metrics={"conditions": light}),
        ])
    return p


def test_a_visit_shows_its_three_views_together_and_compares_with_the_one_before(db, two_visits):
    at = run(two_visits.id)
    assert not at.exception
    assert at.selectbox(key="visit_pick").value == 1                  # the latest visit
    captions = [c.value for c in at.caption if c.value.startswith("Acne ") or c.value.startswith("Overall ")]
    assert len(captions) == 3 and "Acne 60 (fair)" in captions[1] and "(good)" in captions[2]
    images = [i for i in at.image]
    assert len(images) >= 2                                            # front and left kept pictures
    assert any("**Right side** (no picture)" in m.value for m in at.markdown)
    (compare,) = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("**Front**:")]
    front, left, right = compare.split("  \n")
    assert "not counted as a change" in front and "darker light" in front and "worse" not in front
    assert left.startswith("**Left side**:") and "Acne: 80 → 60 (-20.0) ▼ worse" in left     # a real change
    assert right == "**Right side**: no score changed by more than its noise band"


def test_scans_outside_a_visit_show_no_visit_section(db, ada):
    at = run(ada.id)
    assert not [s for s in at.subheader if s.value == "Full checks"]


def test_acne_shows_the_lesions_counted_in_each_scan_with_their_range(db, ada):
    at = run(ada.id)
    at.selectbox(key="progress_key").set_value("acne").run()
    assert not at.exception
    counts = figure(at, "progress_acne_counts")["data"][0]
    assert counts["y"] == [4, 9]                                        # the scan without a count is left out
    lows, highs = counts["error_y"]["arrayminus"], counts["error_y"]["array"]
    assert all(lo >= 0 for lo in lows) and all(hi >= 0 for hi in highs)


def test_other_scores_do_not_show_the_lesion_chart(db, ada):
    at = run(ada.id)
    at.selectbox(key="progress_key").set_value("wrinkle").run()
    assert not at.exception and figure(at, "progress_chart")
    assert not [c for c in at.get("plotly_chart") if "progress_acne_counts" in c.proto.id]


@pytest.fixture()
def before_and_after_redness(db):
    """Two scans saved before redness existed, then one with it (and its red-area mask kept)."""
    p = db.create_profile("Rosa")
    for day, note in (("01", "old"), ("08", "old too")):
        db.add_scan(p.id, taken_at=f"2025-03-{day}T08:00:00+00:00", scores=dict(SCORES), metrics={},
                    model_version="m1", note=note)
    red = np.zeros((64, 64), bool)
    red[30:40, 5:25] = True
    db.add_scan(p.id, taken_at="2025-03-15T08:00:00+00:00", scores={**SCORES, "redness": 64.0}, metrics={},
                model_version="m1", note="new", crop_png=small_png(3),
                masks_png=masks_to_png({"acne": np.zeros_like(red), "redness": red}, size=64))
    return p


def test_redness_is_charted_from_the_scans_that_have_it_and_the_others_are_said_to_be_unmeasured(db, before_and_after_redness):
    at = run(before_and_after_redness.id)
    at.selectbox(key="progress_key").set_value("redness").run()
    assert not at.exception
    assert figure(at, "progress_chart")["data"][1]["y"] == [64.0]
    assert any("Redness was not measured on 2 scan(s)" in c.value for c in at.caption)


def test_comparing_a_scan_from_before_redness_says_redness_was_not_measured_instead_of_a_change(db, before_and_after_redness):
    at = run(before_and_after_redness.id)
    assert "Redness" not in {m.label for m in at.metric}
    assert any("Not measured on one of these scans, so not compared: Redness." in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert list(table["Redness"].isna()) == [False, True, True]
    assert any("A blank Redness was not measured" in c.value for c in at.caption)


def test_the_red_areas_of_a_stored_scan_are_drawn_when_redness_is_toggled(db, before_and_after_redness, overlay_calls):
    at = run(before_and_after_redness.id)
    first = db.list_scans(before_and_after_redness.id)[0].id
    at.selectbox(key="cmp_a").set_value(first).run()
    overlay_calls.clear()
    at.button_group(key="cmp_overlay").set_value(["redness"]).run()
    assert overlay_calls == [["redness"]]       # only the newer scan kept a picture with marks


def test_a_noise_band_measured_for_other_weights_is_refused_in_words(db, ada, tmp_path, monkeypatch):
    from tests.test_model_bundle import edit, shipped_copy
    weights = shipped_copy(tmp_path / "model")
    edit(tmp_path / "model" / "noise_band.json", model_weights="unet-resnet34-6ch-0000000000")
    monkeypatch.setenv("SKINGORITHM_MODEL", str(weights))
    monkeypatch.setattr(progress, "NOISE_BAND_PATH", None)
    at = run(ada.id)
    assert not at.exception
    assert any("do not belong together" in e.value for e in at.error)


@pytest.fixture()
def astronaut_before_redness(db):
    """A real face saved as a version before redness stored it: picture and masks kept, no redness."""
    from tests.test_remeasure import _astronaut, old_scan
    p = db.create_profile("Vera")
    db.add_scan(p.id, **old_scan(_astronaut()))
    return p


def test_redness_can_be_measured_from_the_kept_picture_of_a_scan_saved_before_it(db, astronaut_before_redness):
    at = run(astronaut_before_redness.id)
    assert any("1 scan(s) saved before redness was measured kept their face picture" in t for t in texts(at.info))
    assert "Redness" not in at.dataframe[0].value.columns                     # no scan has it yet
    button(at, "Measure redness from the kept pictures").click().run()
    assert not at.exception
    assert "Redness measured on 1 scan(s) from their kept pictures." in texts(at.success)
    assert list(at.dataframe[0].value["Redness"].isna()) == [False]
    assert any("Redness of 1 scan(s) was measured later, from the face picture the scan kept." in c.value
               for c in at.caption)
    assert not [b for b in at.button if b.label == "Measure redness from the kept pictures"]   # nothing left
    assert "redness" in db.list_scans(astronaut_before_redness.id)[0].scores


def test_pictures_without_a_face_keep_redness_unmeasured_and_say_why(db, ada):
    at = run(ada.id)
    assert any("2 scan(s) saved before redness" in t for t in texts(at.info))
    button(at, "Measure redness from the kept pictures").click().run()
    assert not at.exception
    (said,) = [t for t in texts(at.success) if t.startswith("Redness measured on")]
    assert said.startswith("Redness measured on 0 scan(s)") and "2 could not be measured (No face was found" in said
    assert not any("saved before redness" in t for t in texts(at.info))
    assert all("redness" not in s.scores for s in db.list_scans(ada.id))
