"""The app and the CLI on one database at the same time, as the README invites: the app's storage in one
process (a new thread per page run, as Streamlit runs pages, so new connections keep opening) and CLI
commands in others, writing and reading for a few seconds. Nothing may be lost or damaged: the file
passes ``PRAGMA integrity_check``, every save either side reported is there, and the app's ``-wal`` and
``-shm`` are never unlinked under it (a process that opens and closes the database file with plain
``open()`` cancels its own POSIX locks, and the CLI's last close then deletes the WAL the app still uses).
No TensorFlow is loaded: ``history`` needs none."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCORES = {"acne": 80.0, "flek": 70.0, "wrinkle": 90.0, "panda_eye": 60.0, "overall": 75.0}
ROUNDS = 5              # CLI rounds (an import and a list at once) while the app runs; a few seconds on a quiet machine

# The app: a page run per thread (each opens its own connection), saving and reading; after each
# run it looks in /proc/self/fd for a database file unlinked under it. Prints what it saved.
APP = textwrap.dedent("""
    import json, os, sys, threading, time
    from skin_app.storage import Storage
    path, stop, scores = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    db = Storage(path)
    pid = db.get_or_create_profile("App").id
    saved, unlinked, errors = [], set(), []

    def page_run(n):
        try:
            saved.append(db.add_scan(pid, taken_at=f"2025-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
                                     scores=scores, metrics={"n": n}, model_version="app", note=f"app {n}"))
            db.list_scans(pid)
        except Exception as exc:
            errors.append(repr(exc)[:300])

    print("ready", flush=True)
    end, n = time.monotonic() + 120, 0
    while (n < 20 or not os.path.exists(stop)) and time.monotonic() < end:
        t = threading.Thread(target=page_run, args=(n,))
        t.start()
        t.join()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith(path) and target.endswith("(deleted)"):
                unlinked.add(target)
        n += 1
    print(json.dumps({"saved": saved, "unlinked": sorted(unlinked), "errors": errors}), flush=True)
""")


def _export(tmp_path: Path, n: int) -> Path:
    """A one-scan JSON export the CLI imports: a write that reports what it saved."""
    doc = {"format": "skingorithm-profile", "format_version": 1, "profile": {"name": "x"},
           "scans": [{"id": 1, "taken_at": f"2024-06-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
                      "scores": SCORES, "metrics": {"cli": n}, "model_version": "cli", "note": f"cli {n}"}]}
    path = tmp_path / f"cli{n}.json"
    path.write_text(json.dumps(doc))
    return path


def _cli(env: dict, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skin_app", "history", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_cli_beside_the_running_app_loses_and_damages_nothing(tmp_path):
    db_path, stop = str(tmp_path / "shared.sqlite3"), tmp_path / "stop"
    env = {**os.environ, "SKINGORITHM_DB": db_path, "PYTHONPATH": str(ROOT)}
    app = subprocess.Popen([sys.executable, "-c", APP, db_path, str(stop), json.dumps(SCORES)], cwd=ROOT,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert app.stdout is not None and app.stdout.readline().strip() == "ready", app.stderr.read() if app.stderr else ""
    imported, failures = [], []
    for n in range(ROUNDS):                    # rounds, not seconds: a loaded machine makes them slower, not fewer
        assert app.poll() is None, "the app stopped early"
        batch = [(n, _cli(env, "import", str(_export(tmp_path, n)), "--profile", "Cli")),
                 (None, _cli(env, "list", "--profile", "App", "--json"))]
        for number, proc in batch:
            out, err = proc.communicate(timeout=60)
            if proc.returncode == 0 and number is not None:
                assert "1 scan(s)" in out
                imported.append(number)
            elif proc.returncode != 0 and "no profile called" not in err:
                failures.append(err[-300:])
    stop.touch()
    out, err = app.communicate(timeout=120)
    assert app.returncode == 0, err[-2000:]
    report = json.loads(out.strip().splitlines()[-1])

    assert report["unlinked"] == [], "the app's database files were unlinked under it"
    assert report["errors"] == [] and failures == []
    assert len(report["saved"]) >= 20 and len(imported) == ROUNDS    # both sides really worked
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids = {r[0] for r in conn.execute("SELECT id FROM scans WHERE model_version = 'app'")}
        cli_notes = {r[0] for r in conn.execute("SELECT note FROM scans WHERE model_version = 'cli'")}
    finally:
        conn.close()
    assert set(report["saved"]) <= ids
    assert {f"cli {i}" for i in imported} <= cli_notes
