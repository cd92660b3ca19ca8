"""Shared test set-up: TensorFlow environment before any import, and one loaded model per session."""
from __future__ import annotations

import pytest

from skin_app.config import setup_tensorflow_env

setup_tensorflow_env()


@pytest.fixture()
def db(tmp_path, monkeypatch):
    """A fresh database in a temporary folder, also the one pages open (through SKINGORITHM_DB)."""
    from skin_app.storage import Storage
    monkeypatch.setenv("SKINGORITHM_DB", str(tmp_path / "test.sqlite3"))
    s = Storage()
    yield s
    s.close()


@pytest.fixture()
def run_cli(capsys, monkeypatch):
    """``python -m skin_app ARGV`` run in this process (no new Python, no second TensorFlow start):
    ``run_cli(*argv, stdin=None) -> (exit status, stdout, stderr)``; argparse's refusals give status 2."""
    import io

    from skin_app.__main__ import main

    def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"))
        try:
            status = main(list(argv))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return status, out.out, out.err
    return run


@pytest.fixture(scope="session")
def segmenter():
    from skin_app.scan.segmentation import load_segmenter
    return load_segmenter()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (Debian's Chromium at /usr/bin/chromium)")


# Fixtures several test modules share (defined here, so no module imports another's fixture).
@pytest.fixture()
def downloads(monkeypatch):
    """Every file handed to a download button, by file name (``app_helpers.spy_downloads``)."""
    from tests.app_helpers import spy_downloads
    return spy_downloads(monkeypatch)


@pytest.fixture()
def overlay_calls(monkeypatch):
    """The concerns of every ``overlay_masks`` call a page makes, in order (``app_helpers.spy_overlays``)."""
    from tests.app_helpers import spy_overlays
    return spy_overlays(monkeypatch)


@pytest.fixture()
def five_hundred_scans(db):
    """A profile of 500 scans with a stored picture each (a bit more than a year of daily scans)."""
    from skin_app.limits import MAX_FILE_BYTES
    from tests.test_export_roundtrip import year_of_scans
    pid = year_of_scans(db)
    (first,) = db.list_scans(pid)[:1]
    assert len(first.crop_png) > 100_000 and 500 * len(first.crop_png) > MAX_FILE_BYTES     # past the old 25 MB limit
    return pid
