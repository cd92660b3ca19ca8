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


@pytest.fixture(scope="session")
def segmenter():
    from skin_app.scan.segmentation import load_segmenter
    return load_segmenter()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (Debian's Chromium at /usr/bin/chromium)")
