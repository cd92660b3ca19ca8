"""The batch CLI: python -m skin_app analyze PHOTO... [--json] [--view VIEW] [--overlay OUT]. Run in this
process (``run_cli``); the one test about what a real process writes to its stderr starts one (stdout
holding only JSON in a real process: tests/test_cli_history.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.photos import astronaut_jpeg

ROOT = Path(__file__).resolve().parent.parent


def process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skin_app", "analyze", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_json_for_a_good_photo_and_a_clear_reason_for_a_bad_one(tmp_path, run_cli):
    good = tmp_path / "me.jpg"
    good.write_bytes(astronaut_jpeg())
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"not a photo at all")
    out = tmp_path / "overlays"
    status, stdout, _ = run_cli("analyze", str(good), str(bad), "--json", "--overlay", str(out))
    assert status == 1                                   # one photo failed
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 2
    ok, failed = rows
    assert set(ok["scores"]) == {"acne", "flek", "wrinkle", "panda_eye", "redness", "overall"}
    assert ok["words"]["overall"] in {"good", "fair", "needs care"} and ok["words"]["redness"] in {"good", "fair", "needs care"}
    assert ok["not_measured"] == [] and 0 <= ok["metrics"]["redness"]["share"] <= 1
    assert set(ok["metrics"]["per_region"]["left_cheek"]) >= {"acne", "redness"}
    assert failed["code"] == "not_an_image" and failed["advice"]
    with Image.open(out / "me_overlay.png") as im:
        assert im.size[0] > im.size[1]                   # photo and overlay side by side


def test_a_photo_whose_colour_cannot_be_read_says_redness_was_not_measured(tmp_path, run_cli):
    from tests.photos import greyscale_jpeg
    grey = tmp_path / "grey.jpg"
    grey.write_bytes(greyscale_jpeg())
    row = json.loads(run_cli("analyze", str(grey), "--json")[1].splitlines()[-1])
    assert row["not_measured"] == ["redness"] and "redness" not in row["scores"] and "acne" in row["scores"]
    assert any(a["code"] == "colour_cast" for a in row["advice"])
    text = run_cli("analyze", str(grey))[1]
    assert "Redness not measured" in text


def test_a_batch_with_hostile_inputs_analyses_every_good_photo_and_prints_only_json(tmp_path, run_cli):
    from tests.hostile import png_of_zeros
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "me.jpg", tmp_path / "b" / "me.jpg"     # two photos, one name
    first.write_bytes(astronaut_jpeg())
    second.write_bytes(astronaut_jpeg(80))
    sliver = tmp_path / "sliver.png"
    sliver.write_bytes(png_of_zeros(50_000, 1))
    out = tmp_path / "overlays"
    status, stdout, _ = run_cli("analyze", str(first), str(sliver), "/dev/zero", str(second), "--json",
                                "--overlay", str(out))
    assert status == 1
    rows = [json.loads(line) for line in stdout.splitlines()]                # every stdout line is JSON
    assert [r.get("code") for r in rows] == [None, "bad_shape", "too_large", None]
    assert "scores" in rows[0] and "scores" in rows[3]
    assert sorted(p.name for p in out.iterdir()) == ["me_2_overlay.png", "me_overlay.png"]


def test_one_photo_with_overlay_into_an_existing_folder(tmp_path, run_cli):
    photo = tmp_path / "me.jpg"
    photo.write_bytes(astronaut_jpeg())
    folder = tmp_path / "out"
    folder.mkdir()
    status, _, err = run_cli("analyze", str(photo), "--overlay", str(folder))
    assert status == 0, err[-2000:]
    assert (folder / "me_overlay.png").exists()


def test_a_close_up_is_scored_as_a_close_up_when_asked(tmp_path, run_cli):
    from tests.photos import closeup_jpeg
    photo = tmp_path / "cheek.jpg"
    photo.write_bytes(closeup_jpeg())
    refused = json.loads(run_cli("analyze", str(photo), "--json")[1].splitlines()[-1])
    assert refused["code"] == "no_face"
    scored = json.loads(run_cli("analyze", str(photo), "--json", "--view", "closeup")[1].splitlines()[-1])
    assert set(scored["scores"]) == {"acne", "flek", "redness", "overall"} and scored["metrics"]["view"] == "closeup"


def test_the_cli_uses_the_pages_overall_rule_and_says_why(tmp_path, run_cli):
    from tests.photos import acne_face_jpeg
    photo = tmp_path / "acne.jpg"
    photo.write_bytes(acne_face_jpeg())
    (row,) = [json.loads(line) for line in run_cli("analyze", str(photo), "--json")[1].splitlines()]
    assert row["words"]["acne"] == "needs care" and row["words"]["overall"] != "good"
    assert "weakest concern, here Acne" in row["overall_note"]
    text = run_cli("analyze", str(photo))[1]
    assert "Overall" in text and "(needs care)" in text and "weakest concern, here Acne" in text


def test_stderr_holds_only_what_a_person_needs_as_under_run_sh(tmp_path):
    """The C++ libraries' start-up lines (cuDNN, XNNPACK, mediapipe) are dropped, as run.sh drops them;
    a refusal printed just before exit still arrives."""
    import re

    from skin_app.config import NATIVE_NOISE
    photo = tmp_path / "me.jpg"
    photo.write_bytes(astronaut_jpeg())
    proc = process(str(photo), str(tmp_path / "missing.jpg"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"{tmp_path / 'missing.jpg'}: not analysed: No such file or directory"]
    assert not re.search(NATIVE_NOISE, proc.stderr)
