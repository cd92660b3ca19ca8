"""Batch analysis (skin_app.batch.run, batch.on_ray, cli.batch): the pieces without a model, then whole runs
through Ray (the optional extra, installed by test.sh) checked against ``analyze --json``."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from skin_app.batch import run as batch
from skin_app.batch.run import BatchError, Output, Progress, photo_list, row_of
from tests.hostile import png_of_zeros
from tests.photos import astronaut_jpeg, closeup_jpeg, no_face_jpeg, side_view_jpeg, write_photo_set

ROOT = Path(__file__).resolve().parent.parent
VERSION = "unet-test-version"

GOOD = {"photo": "a.jpg", "scores": {"acne": 90.0, "overall": 80.0}, "words": {"acne": "good", "overall": "good"},
        "metrics": {"skin_ita": 50.1, "per_region": {"nose": {"acne": 0.0, "pixels": 12}}, "view": "front",
                    "under_eye_contrast": None, "under_eye_contrast_sides": {}},
        "model_version": VERSION, "advice": [{"code": "too_small", "message": "m", "advice": "a"}],
        "timings_ms": {"total_ms": 12.5}}
REFUSED = {"photo": "b.jpg", "error": "No face was found in this photo.", "advice": "Use a photo ...", "code": "no_face"}


# -- which photos ----------------------------------------------------------------------------------
def test_photo_list_keeps_the_order_given_takes_each_photo_once_and_opens_folders(tmp_path):
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    for name in ("dir/b.JPG", "dir/a.png", "dir/sub/c.heic", "dir/notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    listing = tmp_path / "list.txt"
    listing.write_text("z.jpg\n\ny.jpg\r\nz.jpg\n", encoding="utf-8")
    photos = photo_list(["z.jpg", str(tmp_path / "dir")], listing)
    assert photos == ["z.jpg", str(tmp_path / "dir/a.png"), str(tmp_path / "dir/b.JPG"),
                      str(tmp_path / "dir/sub/c.heic"), "y.jpg"]


def test_no_photos_or_an_unreadable_list_is_refused_in_words(tmp_path):
    with pytest.raises(BatchError, match="No photos"):
        photo_list([])
    with pytest.raises(BatchError, match="list of photos") as err:
        photo_list([], tmp_path / "missing.txt")
    assert "one photo path a line" in str(err.value)


# -- rows ------------------------------------------------------------------------------------------
def test_a_row_spreads_the_record_into_queryable_columns_and_keeps_it_whole():
    row = row_of(GOOD, "front", "expected-version")
    assert row["ok"] and row["model_version"] == VERSION and row["view"] == "front"
    assert row["scores.acne"] == 90.0 and row["words.overall"] == "good" and row["metrics.skin_ita"] == 50.1
    assert row["metrics.per_region.nose.pixels"] == 12 and row["metrics.under_eye_contrast"] is None
    assert row["advice_codes"] == ["too_small"] and row["timings_ms.total_ms"] == 12.5
    assert row["code"] is None and batch.record_of(row) == GOOD


def test_a_refusal_is_a_row_with_its_code_and_advice_and_the_run_s_model_version():
    row = row_of(REFUSED, "front", "expected-version")
    assert not row["ok"] and row["code"] == "no_face" and row["error_advice"] == "Use a photo ..."
    assert row["model_version"] == "expected-version" and row["advice_codes"] == []
    assert batch.record_of(row) == REFUSED


# -- the output ------------------------------------------------------------------------------------
def _rows(names, version=VERSION, view="front"):
    return [row_of({**GOOD, "photo": n, "model_version": version}, view, version) for n in names]


def test_parts_are_committed_whole_and_finish_merges_them_into_one_row_per_photo(tmp_path):
    out = tmp_path / "r.parquet"
    with Output(out) as o:
        o.commit(_rows(["a", "b"]))
        o.commit(_rows(["c"]) + [row_of({**REFUSED, "photo": "d"}, "front", VERSION)])
        assert [p.name for p in o.part_files()] == ["part-000001.parquet", "part-000002.parquet"]
        assert not list(o.parts.glob(".tmp-*"))
        assert o.done(VERSION) == {("a", "front"), ("b", "front"), ("c", "front"), ("d", "front")}
        assert o.done("another-version") == set()
        table = o.finish()
    assert table.column("photo").to_pylist() == ["a", "b", "c", "d"]
    assert not o.parts.exists()                              # parts merged and removed, lock released
    assert pq.read_table(out).num_rows == 4


def test_a_part_keeps_every_column_whatever_its_first_row_lacks(tmp_path):
    with Output(tmp_path / "r.parquet") as o:
        o.commit([row_of(REFUSED, "front", VERSION), *_rows(["a"])])       # a refusal has no score columns
        table = o.finish().to_pandas()
    assert table.set_index("photo").loc["a", "scores.acne"] == 90.0
    assert table.set_index("photo").loc["b.jpg", "code"] == "no_face"


def test_a_new_model_version_replaces_a_photo_s_row_and_other_views_are_other_rows(tmp_path):
    out = tmp_path / "r.parquet"
    with Output(out) as o:
        o.commit(_rows(["a", "b"], version="old"))
        o.finish()
    with Output(out) as o:
        assert o.done("new") == set() and o.done("old") == {("a", "front"), ("b", "front")}
        o.commit(_rows(["a"], version="new") + _rows(["a"], version="new", view="closeup"))
        table = o.finish().to_pandas()
    assert sorted(zip(table["photo"], table["view"], table["model_version"])) == [
        ("a", "closeup", "new"), ("a", "front", "new"), ("b", "front", "old")]


def test_a_half_written_part_from_a_dead_run_is_ignored_and_removed(tmp_path):
    out = tmp_path / "r.parquet"
    parts = tmp_path / "r.parquet.parts"
    parts.mkdir()
    (parts / ".tmp-part-000001.parquet").write_bytes(b"PAR1 cut off")
    with Output(out) as o:
        assert o.done(VERSION) == set()
        assert not list(parts.glob(".tmp-*"))


def test_a_second_run_on_the_same_output_is_refused_while_the_first_holds_it(tmp_path):
    out = tmp_path / "r.parquet"
    with Output(out), pytest.raises(BatchError, match="Another batch run"):
        Output(out).__enter__()


def test_an_output_that_is_not_a_batch_result_is_refused_in_words(tmp_path):
    out = tmp_path / "r.parquet"
    out.write_text("my thesis")
    with Output(out) as o, pytest.raises(BatchError, match="not a batch result"):
        o.done(VERSION)


def test_run_batch_skips_what_is_done_and_commits_what_was_done_when_stopped(tmp_path):
    out = tmp_path / "r.parquet"
    seen: list[str] = []

    def engine(todo):
        for photo, path in todo:
            assert os.path.isabs(path)
            seen.append(photo)
            if photo == "c" and len(seen) == 3:
                raise KeyboardInterrupt
            yield [json.dumps({**GOOD, "photo": photo})]

    names = ["a", "b", "c", "d"]
    with pytest.raises(batch.Interrupted) as stop:
        batch.run_batch(names, out, "front", engine, VERSION, progress_stream=open(os.devnull, "w"))
    assert stop.value.summary.analysed == 2
    assert not out.exists() and len(list((tmp_path / "r.parquet.parts").glob("part-*"))) == 1
    summary = batch.run_batch(names, out, "front", engine, VERSION, progress_stream=open(os.devnull, "w"))
    assert seen == ["a", "b", "c", "c", "d"]                 # a and b were not analysed again
    assert summary.skipped == 2 and summary.analysed == 2
    assert summary.table.column("photo").to_pylist() == names



def test_a_stop_that_an_engine_swallowed_still_ends_the_run_after_the_batch_in_hand(tmp_path):
    """Ray defers a Ctrl+C that lands inside some of its calls, and one raised in its threads may never
    reach the loop: the request is remembered (cli.batch.StopRequest) and the loop ends after the batch in
    hand, committing it, instead of analysing every photo left."""
    from skin_app.cli.batch import StopRequest
    out = tmp_path / "r.parquet"
    stop = StopRequest()

    def engine(todo):
        for photo, _path in todo:
            if photo == "b":
                try:
                    stop(signal.SIGINT, None)          # the Ctrl+C, while the engine works...
                except KeyboardInterrupt:
                    pass                              # ...swallowed by the engine
            yield [json.dumps({**GOOD, "photo": photo})]

    with pytest.raises(batch.Interrupted) as stopped:
        batch.run_batch(["a", "b", "c", "d"], out, "front", engine, VERSION, progress_stream=open(os.devnull, "w"),
                        stop_requested=lambda: stop.requested)
    assert stop.requested and stopped.value.summary.analysed == 2          # a and b, not c and d
    kept = sum(pq.read_table(p).num_rows for p in (tmp_path / "r.parquet.parts").glob("part-*"))
    assert kept == 2 and not out.exists()


def test_a_stop_that_lands_while_a_part_is_renamed_into_place_commits_its_photos_once(tmp_path, monkeypatch):
    """CI once saw 20 part rows for 16 photos: the Ctrl+C came after a part's rename, before its rows
    left the buffer, and the stop committed them again. The stop now waits for the commit to end."""
    from skin_app.cli.batch import StopRequest
    out = tmp_path / "r.parquet"
    real_replace, renamed = os.replace, []

    def replace_then_ctrl_c(src, dst):
        real_replace(src, dst)
        renamed.append(dst)
        if len(renamed) == 1:
            signal.raise_signal(signal.SIGINT)          # the part is in place; its rows are still buffered

    def engine(todo):
        for photo, _path in todo:
            yield [json.dumps({**GOOD, "photo": photo})]

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    stop = StopRequest()
    previous = signal.signal(signal.SIGINT, stop)
    try:
        with pytest.raises(batch.Interrupted) as stopped:
            batch.run_batch(["a", "b", "c", "d"], out, "front", engine, VERSION, progress_stream=open(os.devnull, "w"),
                            part_photos=2, stop_requested=lambda: stop.requested)
    finally:
        signal.signal(signal.SIGINT, previous)
    photos = [photo for p in (tmp_path / "r.parquet.parts").glob("part-*")
              for photo in pq.read_table(p).column("photo").to_pylist()]
    assert sorted(photos) == ["a", "b"] and stopped.value.summary.analysed == 2


# -- progress --------------------------------------------------------------------------------------
def test_progress_shows_photos_per_second_and_time_left_from_the_first_results():
    p = Progress(100, stream=open(os.devnull, "w"))
    p.add(10)                                                # first results: the clock starts here
    t0 = p._first[0]
    p.add(20)
    line = p.line(now=t0 + 10.0)                             # 20 more photos in 10 s
    assert "30/100 photos" in line and "2.00 photos/s" in line and "ETA 35s" in line
    assert batch._duration(4000) == "1h06m" and batch._duration(float("inf")) == "--"


# -- the report ------------------------------------------------------------------------------------
def test_the_report_is_one_self_contained_html_file_with_every_figure(tmp_path):
    rows = _rows(["a", "b"]) + [row_of({**REFUSED, "photo": "<img src=x onerror=alert(1)>"}, "front", VERSION)]
    rows[1]["metrics.skin_ita"] = -40.0
    table = batch.table_of(rows)
    target = tmp_path / "report.html"
    batch.write_report(table, target)
    page = target.read_text(encoding="utf-8")
    assert "<script src=" not in page and "plotly.js v" in page         # plotly.js inlined, nothing fetched
    for title in ("Photos", "Refusal reasons", "Scores", "Scores by skin-tone band (ITA)", "Scores by view"):
        assert json.dumps(title)[1:-1] in page
    assert "<img src=x" not in page
    assert "3 photos: 2 analysed, 1 refused" in page
    frame = batch.report_frame(table)
    assert list(frame["tone_band"]) == ["light", "dark", "unknown"]


def test_a_scan_stored_with_an_angle_skin_cannot_have_is_in_no_tone_band():
    rows = _rows(["a", "b"])
    rows[0]["metrics.skin_ita"] = -172.9            # measured before the rule: a light face under a green cast
    rows[1]["metrics.skin_ita"] = -40.0
    assert list(batch.report_frame(batch.table_of(rows))["tone_band"]) == ["unknown", "dark"]


def test_a_report_of_refusals_only_still_has_its_counts_and_figures(tmp_path):
    table = batch.table_of([row_of({**REFUSED, "photo": f"{i}.jpg"}, "front", VERSION) for i in range(3)])
    page = batch.report_html(table)
    assert "3 photos: 0 analysed, 3 refused" in page and "Scores by view" in page


# -- the command: without Ray, with Ray ------------------------------------------------------------
def test_without_ray_batch_says_how_to_install_it_and_offers_local(monkeypatch, tmp_path, capsys):
    from skin_app.__main__ import main
    from skin_app.batch import on_ray as batch_ray
    monkeypatch.setattr(batch_ray, "available", lambda: False)
    assert main(["batch", "x.jpg", "--out", str(tmp_path / "r.parquet")]) == 1
    err = capsys.readouterr()
    assert err.out == ""
    assert "pip install -r requirements-batch.txt" in err.err and "--local" in err.err
    assert not (tmp_path / "r.parquet.parts").exists()


def test_local_takes_no_cluster_options(tmp_path, capsys):
    from skin_app.__main__ import main
    assert main(["batch", "x.jpg", "--out", str(tmp_path / "r.parquet"), "--local", "--address", "auto"]) == 1
    assert "--local runs in this one process" in capsys.readouterr().err


def _photo_set(folder: Path, n: int) -> list[Path]:
    """``n`` photo files made from the test photos under different names, refusals included: faces
    (front, turned both ways, two JPEG qualities), a close-up and a coffee cup (no face), a text file
    (not an image) and a 50,000 x 1 PNG (a sliver)."""
    return write_photo_set(folder, n, [
        ("face", astronaut_jpeg()), ("face80", astronaut_jpeg(80)), ("right", side_view_jpeg("right")),
        ("left", side_view_jpeg("left")), ("closeup", closeup_jpeg()), ("cup", no_face_jpeg()),
        ("notes", b"not a photo at all"), ("sliver", png_of_zeros(50_000, 1))])


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skin_app", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kw)


def _without_timings(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "timings_ms"}


def _leaves(value, prefix):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{prefix}.{k}")
    else:
        yield prefix, value


ray_installed = pytest.mark.skipif(not __import__("skin_app.batch.on_ray").batch.on_ray.available(),
                                   reason="Ray (requirements-batch.txt) is not installed")
# The tests that start a local Ray cluster run one after another in the same worker under test.sh's
# parallel run (``--dist loadgroup``): two clusters starting at once on a 2-core machine would each get
# half of it, and each sizes itself to the whole machine.
one_ray_at_a_time = pytest.mark.xdist_group("ray")


@ray_installed
@one_ray_at_a_time
def test_a_batch_on_ray_gives_each_photo_exactly_its_analyze_json(tmp_path, run_cli):
    photos = _photo_set(tmp_path / "photos", 52)
    listing = tmp_path / "photos.txt"
    listing.write_text("".join(f"{p}\n" for p in photos), encoding="utf-8")
    out, jsonl, report = tmp_path / "r.parquet", tmp_path / "r.jsonl", tmp_path / "report.html"
    proc = _cli("batch", "--from-list", str(listing), "--out", str(out), "--workers", "2", "--jsonl", str(jsonl),
                "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == ""                                  # stdout is kept for machine output
    assert "52 photos: 28 analysed and 24 refused now" in proc.stderr and "photos/s" in proc.stderr

    expected = {}
    _, analyzed, _ = run_cli("analyze", *map(str, photos), "--json")        # in this process
    for line in analyzed.splitlines():
        record = json.loads(line)
        expected[record["photo"]] = record
    assert len(expected) == 52

    table = pq.read_table(out).to_pandas()
    assert sorted(table["photo"]) == sorted(expected) and table["photo"].is_unique
    for row in table.to_dict("records"):
        want = expected[row["photo"]]
        assert _without_timings(json.loads(row["json"])) == _without_timings(want), row["photo"]
        if "error" in want:
            assert not row["ok"] and (row["code"], row["error"], row["error_advice"]) == (
                want["code"], want["error"], want["advice"])
            continue
        assert row["ok"] and row["model_version"] == want["model_version"]
        assert list(row["advice_codes"]) == [a["code"] for a in want["advice"]]
        for section in ("scores", "words", "metrics"):            # the queryable columns say the same
            for column, value in _leaves(want[section], section):
                if value is not None:
                    assert row[column] == value, (row["photo"], column)
    codes = table.loc[~table["ok"], "code"].value_counts().to_dict()
    assert codes == {"no_face": 12, "not_an_image": 6, "bad_shape": 6}
    assert [json.loads(line)["photo"] for line in jsonl.read_text().splitlines()] == sorted(expected)
    assert "Refusal reasons" in report.read_text(encoding="utf-8")


def _wait_for_parts(parts: Path, n: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(list(parts.glob("part-*.parquet"))) < n:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "no parts were committed"
        time.sleep(0.2)


@ray_installed
@one_ray_at_a_time
def test_a_batch_killed_part_way_then_stopped_then_resumed_has_every_photo_exactly_once(tmp_path, run_cli):
    # enough that the Ctrl+C comes long before the end: with 48, a quick machine finished the 36 left
    # (20 of them refusals, 9.5 photos/s) before the signal arrived
    photos = _photo_set(tmp_path / "photos", 96)
    out = tmp_path / "r.parquet"
    parts = tmp_path / "r.parquet.parts"
    args = [sys.executable, "-m", "skin_app", "batch", str(tmp_path / "photos"), "--out", str(out), "--workers", "2",
            "--part-photos", "2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    # 1. killed outright (no chance to clean up) once some parts are committed
    first = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                             start_new_session=True)
    try:
        _wait_for_parts(parts, 2, first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        _end_group(first)
    committed = pq.read_table(list(parts.glob("part-*.parquet"))[0]).num_rows
    assert committed >= 1 and not out.exists()

    # 2. Ctrl+C: stops cleanly, keeps what it did, says how to go on
    second = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                              start_new_session=True)
    try:
        before = len(list(parts.glob("part-*.parquet")))
        _wait_for_parts(parts, before + 1, second)
        second.send_signal(signal.SIGINT)
        _out, err = second.communicate(timeout=120)
    finally:
        _end_group(second)
    assert second.returncode == 130, err[-3000:]
    assert "run the same command again" in err, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert _out == ""                                        # Ray's notes went to stderr too

    # 3. resumed in one process (--local): only the photos not yet done run
    done_before = sum(pq.read_table(p).num_rows for p in parts.glob("part-*.parquet"))
    assert 0 < done_before < 96
    status, third_out, third_err = run_cli("batch", str(tmp_path / "photos"), "--out", str(out), "--local",
                                           "--jsonl", "-")                # in this process
    assert status == 0, third_err[-3000:]
    assert f"{done_before} done before" in third_err
    assert sorted(json.loads(line)["photo"] for line in third_out.splitlines()) == sorted(map(str, photos))
    table = pq.read_table(out).to_pandas()
    assert sorted(table["photo"]) == sorted(map(str, photos))   # every photo, each exactly once
    assert not parts.exists()


def _end_group(proc: subprocess.Popen) -> None:
    """Ends what a test's batch started: every process of its session (the driver, started in a session
    of its own, and the local Ray it started; Ray's actors have process groups of their own, and outlive
    a killed driver for a while)."""
    proc.poll() is None and proc.kill()
    proc.wait(timeout=60)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == proc.pid:                       # the session id
            try:
                os.kill(int(stat.parent.name), signal.SIGKILL)
            except ProcessLookupError:
                pass
