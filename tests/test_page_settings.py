"""The Settings & privacy page driven as a person would: where the data lives, the picture choice,
deleting a profile or everything (with confirmation), and the model card."""
from __future__ import annotations

import pytest

from tests.app_helpers import SCORES, button, page, texts
from tests.photos import small_png


@pytest.fixture()
def family(db):
    """Ada with two scans (one with a picture), a shelf product and a routine; Bob with one scan."""
    from datetime import date, datetime, time, timezone

    from skin_app.routines.schedule import Routine, Schedule, Step
    ada, bob = db.create_profile("Ada"), db.create_profile("Bob")
    db.add_scan(ada.id, taken_at="2025-03-01T08:00:00Z", scores=SCORES, metrics={}, model_version="m",
                crop_png=small_png(1), masks_png=small_png(2))
    db.add_scan(ada.id, taken_at="2025-03-02T08:00:00Z", scores=SCORES, metrics={}, model_version="m")
    db.save_shelf_product(ada.id, "Serum", "Aqua, Niacinamide")
    db.create_routine(ada.id, Routine("Night", Schedule("daily", time(21), "UTC", date(2025, 3, 1)), (Step("Cleanse"),),
                                      created_at=datetime(2025, 3, 1, tzinfo=timezone.utc)))
    db.add_scan(bob.id, taken_at="2025-03-01T08:00:00Z", scores=SCORES, metrics={}, model_version="m",
                crop_png=small_png(3))
    return ada, bob


def run(profile_id=None):
    at = page("settings")
    if profile_id is not None:
        at.session_state["profile_id"] = profile_id
    return at.run()


def test_the_page_says_where_the_data_lives_and_what_it_holds(db, family):
    at = run()
    assert not at.exception
    assert str(db.path) in [c.value for c in at.code]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Profiles"], metrics["Scans"], metrics["Stored face pictures"]) == ("2", "3", "2")
    assert any("runs fully offline" in s.value.lower() for s in at.subheader)
    assert any("never stored" in m.value for m in at.markdown)


def test_the_picture_choice_is_saved_for_the_active_profile_only(db, family):
    ada, bob = family
    at = run(ada.id)
    at.toggle(key=f"store_pictures_{ada.id}").set_value(False).run()
    assert not at.exception
    assert db.get_profile(ada.id).store_pictures is False
    assert db.get_profile(bob.id).store_pictures is True


def test_forgetting_pictures_keeps_the_scores(db, family):
    ada, bob = family
    at = run(ada.id)
    button(at, "Forget this profile's pictures (keep the scores)").click().run()
    assert any("Removed 1 picture(s)" in t for t in texts(at.success))
    assert [s.crop_png for s in db.list_scans(ada.id)] == [None, None]
    assert len(db.list_scans(ada.id)) == 2
    assert db.list_scans(bob.id)[0].crop_png == small_png(3)


def test_deleting_a_profile_needs_confirmation_and_leaves_the_others(db, family):
    ada, bob = family
    at = run(ada.id)
    assert button(at, "Delete this profile").disabled
    at.checkbox(key=f"confirm_profile_{ada.id}").check().run()
    button(at, "Delete this profile").click().run()
    assert not at.exception
    assert [p.name for p in db.list_profiles()] == ["Bob"]
    assert db.list_shelf(ada.id) == [] and db.list_routines(ada.id) == []
    assert len(db.list_scans(bob.id)) == 1
    assert any("Deleted the profile Ada" in t for t in texts(at.success))
    assert at.session_state["profile_id"] == bob.id                   # the page moved on to Bob


def test_delete_everything_needs_the_word_and_then_really_deletes(db, family):
    at = run()
    at.text_input(key="confirm_everything").input("delete").run()     # not the exact word
    assert button(at, "Delete everything").disabled
    at.text_input(key="confirm_everything").input("DELETE").run()
    button(at, "Delete everything").click().run()
    assert not at.exception
    s = db.summary()
    assert (s.scans, s.pictures, s.shelf_products, s.routines) == (0, 0, 0, 0)
    assert [p.name for p in db.list_profiles()] == ["Me"]              # a fresh start
    assert small_png(1)[200:264] not in db.path.read_bytes()
    assert any("Deleted everything" in t for t in texts(at.success))


def test_the_model_card_shipped_beside_the_weights_is_shown(db, family, tmp_path, monkeypatch):
    (tmp_path / "weights.npz").write_bytes(b"")
    (tmp_path / "MODEL_CARD.md").write_text("# Model card\n\nTrained on public data. Face skin IoU 0.91.\n")
    monkeypatch.setenv("SKINGORITHM_MODEL", str(tmp_path / "weights.npz"))
    at = run()
    assert any("Face skin IoU 0.91" in m.value for m in at.markdown)


def test_without_a_model_card_the_page_says_so(db, family, tmp_path, monkeypatch):
    monkeypatch.setenv("SKINGORITHM_MODEL", str(tmp_path / "weights.npz"))
    at = run()
    assert any("is not installed" in t for t in texts(at.info))


def test_a_damaged_database_gets_a_clear_message_not_a_traceback(tmp_path, monkeypatch):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database at all" * 50)
    monkeypatch.setenv("SKINGORITHM_DB", str(bad))
    at = run()
    assert not at.exception
    assert any("not a SkinGorithm database" in e.value and "left untouched" in e.value for e in at.error)
    assert bad.read_bytes() == b"not a database at all" * 50


def test_the_model_is_summarised_in_plain_words_with_the_full_card_one_click_away(db):
    from tests.app_helpers import page
    at = page("settings").run()
    (summary,) = [m.value for m in at.markdown if "What it learned from" in m.value]
    text = " ".join(summary.split())
    assert "less accurate on other skin tones" in text and "East Asian" in text
    for jargon in ("IoU", "BCE", "AdamW", "Dice", "F1", "threshold", ".json", "flek", "panda"):
        assert jargon not in summary
    assert any(e.label.startswith("The full model card") for e in at.expander)


def test_phone_mode_is_off_and_says_how_to_start_it_when_not_served_by_run_sh(db):
    from tests.app_helpers import page
    at = page("settings").run()
    assert any("bash run.sh" in i.value for i in at.info)
    assert not [t for t in at.toggle if t.label == "Open on my phone"]
