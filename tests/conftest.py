"""Shared test set-up: TensorFlow environment before any import, and one loaded model per session."""
from __future__ import annotations

import pytest

from skin_app.config import setup_tensorflow_env

setup_tensorflow_env()


@pytest.fixture(scope="session")
def segmenter():
    from skin_app.segmentation import load_segmenter
    return load_segmenter()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (Debian's Chromium at /usr/bin/chromium)")
