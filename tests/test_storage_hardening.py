"""The database under stress: private file modes, full and read-only disks, many first starts at once,
and errors that must reach the page as words, never as a raw SQLite traceback."""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skin_app.storage import DatabaseError, Storage, write_error

ROOT = Path(__file__).resolve().parents[1]
SCORES = {"acne": 96.0, "flek": 92.0, "wrinkle": 97.5, "panda_eye": 85.0, "overall": 92.62}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_its_wal_and_shm_and_its_folder_are_private(tmp_path):
    db = Storage(tmp_path / "new" / "folder" / "skin.sqlite3")
    db.add_scan(db.profiles_or_first("Me")[0].id, taken_at="2025-01-01T08:00:00Z", scores=SCORES, metrics={},
                model_version="m")
    files = [db.path, Path(f"{db.path}-wal"), Path(f"{db.path}-shm")]
    assert all(p.exists() for p in files)                  # the connection is open: WAL files present
    assert [mode(p) for p in files] == [0o600] * 3
    assert mode(db.path.parent) == 0o700
    db.close()


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    path = tmp_path / "old.sqlite3"
    Storage(path).close()
    os.chmod(path, 0o644)
    Storage(path).close()
    assert mode(path) == 0o600


def test_an_error_inside_a_transaction_that_sqlite_already_ended_is_not_hidden(db):
    with pytest.raises(ValueError, match="the real problem"):
        with db.transaction() as conn:
            conn.execute("ROLLBACK")                       # as SQLite does itself after some errors
            raise ValueError("the real problem")
    assert db.list_profiles() == []                        # the handle still works


@pytest.mark.parametrize("error,words", [
    (sqlite3.OperationalError("database or disk is full"), "is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "read-only"),
    (sqlite3.OperationalError("database is locked"), "busy"),
    (sqlite3.OperationalError("disk I/O error"), "disk reported an error"),
])
def test_each_kind_of_write_failure_reads_as_advice(error, words, tmp_path):
    message = str(write_error(error, tmp_path / "x.sqlite3"))
    assert words in message and "everything saved before is kept" in message


def _run(code: str, preexec=None, wrap: list[str] | None = None) -> dict:
    script = f"import json, sys\nsys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(code)
    proc = subprocess.run([*(wrap or []), sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, preexec_fn=preexec)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _seed(path: Path, scans: int = 5) -> None:
    db = Storage(path)
    pid = db.profiles_or_first("Me")[0].id
    for day in range(1, scans + 1):
        db.add_scan(pid, taken_at=f"2025-01-{day:02d}T08:00:00Z", scores=SCORES, metrics={"n": day},
                    model_version="m", crop_png=os.urandom(50_000))
    db.close()


def test_a_full_disk_gives_a_clear_message_and_keeps_every_earlier_scan(tmp_path):
    """``ulimit -f``: no file may grow past its size when the limit is set, so the next big write fails
    the way a full disk does."""
    path = tmp_path / "full.sqlite3"
    _seed(path)
    result = _run(f"""
        import os, resource, signal
        from pathlib import Path
        from skin_app.storage import Storage, DatabaseError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails instead of killing us
        db = Storage({str(path)!r})
        pid = db.list_profiles()[0].id
        biggest = max(p.stat().st_size for p in Path({str(tmp_path)!r}).iterdir())
        resource.setrlimit(resource.RLIMIT_FSIZE, (biggest + 4096, resource.RLIM_INFINITY))
        out = {{}}
        try:
            db.add_scan(pid, taken_at="2025-02-01T08:00:00Z", scores={SCORES!r}, metrics={{}}, model_version="m",
                        crop_png=os.urandom(3_000_000))
            out["error"] = None
        except DatabaseError as exc:
            out["error"] = str(exc)
        out["scans_after"] = len(db.list_scans(pid))
        print(json.dumps(out))
    """)
    assert result["error"] and ("is full" in result["error"] or "disk reported an error" in result["error"])
    assert "everything saved before is kept" in result["error"]
    assert result["scans_after"] == 5
    db = Storage(path)                                     # reopened without the limit: intact and writable
    scans = db.list_scans(db.list_profiles()[0].id)
    assert [s.metrics["n"] for s in scans] == [1, 2, 3, 4, 5]
    assert db._query("PRAGMA integrity_check")[0][0] == "ok"
    db.add_scan(scans[0].profile_id, taken_at="2025-03-01T08:00:00Z", scores=SCORES, metrics={}, model_version="m")
    db.close()


def _namespace_prefix() -> list[str] | None:
    """``unshare`` into a private mount namespace (root, or an unprivileged user namespace), if allowed."""
    if not shutil.which("unshare"):
        return None
    prefix = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    ok = subprocess.run(["unshare", *prefix, "--mount", "true"], capture_output=True).returncode == 0
    return ["unshare", *prefix, "--mount"] if ok else None


def _on_a_small_disk(mnt: Path, megabytes: int, code: str) -> dict:
    """Runs ``code`` with a tmpfs of ``megabytes`` mounted at ``mnt`` (its own mount namespace); the JSON
    its last line prints. Skips where no namespace or tmpfs can be had."""
    unshare = _namespace_prefix()
    if unshare is None:
        pytest.skip("no mount namespace here; the ulimit -f test covers a full disk")
    script = f"import json, sys\nsys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(code)
    sh = f'mount -t tmpfs -o size={megabytes}m tmpfs {mnt} && exec "$0" -c "$1"'
    proc = subprocess.run([*unshare, "sh", "-c", sh, sys.executable, script], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0 and "mount" in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr[-200:]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_database_on_a_small_file_system_that_fills_up(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    code = f"""
        import os, json
        from skin_app.storage import Storage, DatabaseError
        db = Storage({str(mnt / 'db.sqlite3')!r})
        pid = db.profiles_or_first("Me")[0].id
        saved, error = 0, None
        for day in range(1, 200):
            try:
                db.add_scan(pid, taken_at=f"2025-01-01T08:{{day % 60:02d}}:{{day // 60:02d}}Z", scores={SCORES!r},
                            metrics={{"n": day}}, model_version="m", crop_png=os.urandom(200_000))
                saved += 1
            except DatabaseError as exc:
                error = str(exc)
                break
        print(json.dumps({{"saved": saved, "error": error, "after": len(db.list_scans(pid)),
                          "check": db._query("PRAGMA integrity_check")[0][0]}}))
    """
    result = _on_a_small_disk(mnt, 2, code)
    assert result["error"] and ("is full" in result["error"] or "disk reported an error" in result["error"])
    assert 0 < result["saved"] == result["after"]           # every scan saved before the disk filled is there
    assert result["check"] == "ok"


def test_a_read_only_database_gives_a_clear_message_and_is_left_as_it_was(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "db.sqlite3"
    _seed(path)
    before = path.read_bytes()
    code = f"""
        from skin_app.storage import Storage, DatabaseError
        try:
            db = Storage({str(path)!r})
            db.add_scan(db.list_profiles()[0].id, taken_at="2025-02-01T08:00:00Z", scores={SCORES!r},
                        metrics={{}}, model_version="m")
            print(json.dumps({{"error": None}}))
        except DatabaseError as exc:
            print(json.dumps({{"error": str(exc)}}))
    """
    if os.geteuid() != 0:                                  # permissions stop an ordinary user
        os.chmod(path, 0o400)
        os.chmod(folder, 0o500)
        try:
            result = _run(code)
        finally:
            os.chmod(folder, 0o700)
            os.chmod(path, 0o600)
    else:                                                  # root ignores permissions: a read-only mount
        unshare = _namespace_prefix()
        if unshare is None:
            pytest.skip("root without a mount namespace cannot make a file read-only")
        result = _run(code, wrap=[*unshare, "sh", "-c",
                                  f'mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && exec "$0" "$@"'])
    assert result["error"] and "read-only" in result["error"] and "everything saved before is kept" in result["error"]
    assert path.read_bytes() == before
    db = Storage(path)
    assert len(db.list_scans(db.list_profiles()[0].id)) == 5
    db.close()


def _first_start(path: str, barrier, results, index: int) -> None:
    try:
        barrier.wait(timeout=60)
        db = Storage(path)
        if index % 2:                                      # the page's first start
            profiles = db.profiles_or_first("Me")
            me = db.get_or_create_profile("Me")
        else:                                              # look-up-or-create racing it
            me = db.get_or_create_profile("Me")
            profiles = db.profiles_or_first("Me")
        results.put(("ok", [p.name for p in profiles], me.id))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(("error", repr(exc), None))


def test_a_hundred_simultaneous_first_starts_make_one_profile_and_no_error(tmp_path):
    path = str(tmp_path / "first.sqlite3")
    ctx = multiprocessing.get_context("fork")
    n = 100
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_first_start, args=(path, barrier, results, i)) for i in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(n)]
    for p in procs:
        p.join(timeout=60)
    errors = [o for o in outcomes if o[0] != "ok"]
    assert not errors, errors[:3]
    assert {tuple(o[1]) for o in outcomes} == {("Me",)}
    assert len({o[2] for o in outcomes}) == 1
    assert [p.name for p in Storage(path).list_profiles()] == ["Me"]


def _foreign_file(path: Path, user_version: int = 0) -> str:
    """Another program's SQLite database (a notes app's), in rollback-journal mode; returns its hash."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes(body) VALUES ('buy sunscreen')")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.commit()
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("user_version", [0, 3])
def test_another_programs_sqlite_file_is_refused_and_never_migrated(tmp_path, user_version):
    path = tmp_path / "notes.sqlite3"
    before = _foreign_file(path, user_version)
    with pytest.raises(DatabaseError, match="another program") as err:
        Storage(path)
    assert "left untouched" in str(err.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]        # no -wal, no -shm left


def test_history_list_on_another_programs_sqlite_file_says_so_and_changes_nothing(tmp_path, monkeypatch, run_cli):
    path = tmp_path / "notes.sqlite3"
    before = _foreign_file(path)
    monkeypatch.setenv("SKINGORITHM_DB", str(path))
    status, _, err = run_cli("history", "list", "--profile", "Me")      # a traceback would fail the test
    assert status == 1 and "another program" in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"     # not switched to WAL
    conn.close()


def test_the_model_cache_coming_first_makes_the_apps_home_private(tmp_path, monkeypatch):
    """The fast-model cache used to create the home folder 0755 before the database could make it 0700."""
    from skin_app.scan import segmentation
    home = tmp_path / "fresh" / "home"
    monkeypatch.setenv("SKINGORITHM_HOME", str(home))
    monkeypatch.setattr(segmentation, "fast_cache_path", lambda digest, kind="k": home / "model_cache" / "m.tflite")
    monkeypatch.setattr(segmentation, "convert_to_tflite", lambda model, kind, representative=None: b"\0\0\0\0TFL3")
    old = os.umask(0o022)
    try:
        segmentation.cached_fast_model(lambda: None, "a" * 64)
    finally:
        os.umask(old)
    assert (home / "model_cache" / "m.tflite").exists()
    assert mode(home) == 0o700 and mode(home / "model_cache") == 0o700 and mode(home.parent) == 0o700


def test_a_home_folder_an_older_version_left_open_is_made_private_and_other_folders_are_not(tmp_path, monkeypatch):
    home, elsewhere = tmp_path / "home", tmp_path / "documents"
    home.mkdir(mode=0o755)
    elsewhere.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    os.chmod(elsewhere, 0o755)
    monkeypatch.setenv("SKINGORITHM_HOME", str(home))
    Storage(home / "skingorithm.sqlite3").close()
    Storage(elsewhere / "mine.sqlite3").close()           # SKINGORITHM_DB in a folder of the person's own
    assert mode(home) == 0o700 and mode(elsewhere) == 0o755


def test_a_scan_can_be_deleted_on_a_full_disk_and_the_file_is_cleaned_when_there_is_room(tmp_path):
    """Deleting is how a person frees space: on a disk filled to the last byte (scans, then another
    program's file) a delete must still work, a new scan fit afterwards, and the deleted picture's
    pages be vacuumed away once there is room again."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    code = f"""
        import os, json
        from skin_app.storage import Storage, DatabaseError
        db = Storage({str(mnt / 'db.sqlite3')!r})
        pid = db.profiles_or_first("Me")[0].id
        reserve_at_start = os.path.exists({str(mnt / "db.sqlite3-reserve")!r})
        with open({str(mnt / 'other-big')!r}, "wb") as f:          # another program's 4 MB
            f.write(os.urandom(4 * 1024 * 1024))
        for n in range(1, 400):
            try:
                db.add_scan(pid, taken_at=f"2025-01-01T08:{{n % 60:02d}}:{{n // 60:02d}}Z", scores={SCORES!r},
                            metrics={{"n": n}}, model_version="m", crop_png=os.urandom(150_000))
            except DatabaseError:
                break
        try:
            with open({str(mnt / 'other-program')!r}, "wb") as f:    # every last byte taken
                while True:
                    f.write(b"x" * 4096)
                    f.flush()
        except OSError:
            pass
        before = [s.id for s in db.list_scans(pid)]
        out = {{"before": len(before), "error": None, "reserve_at_start": reserve_at_start}}
        try:
            out["deleted"] = db.delete_scan(before[0], profile_id=pid)
            db.add_scan(pid, taken_at="2025-03-01T08:00:00Z", scores={SCORES!r}, metrics={{}}, model_version="m",
                        crop_png=os.urandom(50_000))
        except DatabaseError as exc:
            out["error"] = str(exc)
        out["after"] = [s.id for s in db.list_scans(pid)]
        out["reserve_given_up"] = not os.path.exists({str(mnt / "db.sqlite3-reserve")!r})
        out["check"] = db._query("PRAGMA integrity_check")[0][0]
        out["pending"] = os.path.exists({str(mnt / "db.sqlite3-vacuum")!r})
        db.close()
        os.unlink({str(mnt / 'other-program')!r})                   # room again: the next start cleans up
        os.unlink({str(mnt / 'other-big')!r})
        db = Storage({str(mnt / 'db.sqlite3')!r})
        out["free_pages"] = db._query("PRAGMA freelist_count")[0][0]
        out["still_pending"] = os.path.exists({str(mnt / "db.sqlite3-vacuum")!r})
        print(json.dumps(out))
    """
    result = _on_a_small_disk(mnt, 8, code)
    assert result["error"] is None and result["deleted"] is True
    assert result["before"] > 3 and len(result["after"]) == result["before"]      # one deleted, one new saved
    assert not result["still_pending"]                     # vacuumed at once, or at the next start
    assert result["check"] == "ok" and result["free_pages"] == 0
    assert result["reserve_at_start"] and result["reserve_given_up"]      # the reserve made the room


def test_a_vacuum_a_full_disk_put_off_runs_at_the_next_start(tmp_path):
    path = tmp_path / "db.sqlite3"
    _seed(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA secure_delete = FAST")             # as the full-disk delete does
    conn.execute("DELETE FROM scans WHERE id < 4")
    conn.commit()
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] > 0
    conn.close()
    Path(f"{path}-vacuum").touch()                         # what that delete leaves when the VACUUM does not fit
    db = Storage(path)
    assert db._query("PRAGMA freelist_count")[0][0] == 0 and not Path(f"{path}-vacuum").exists()
    db.close()
