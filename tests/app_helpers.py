"""Helpers for the AppTest page tests: a temporary database, files handed to download buttons, and
a spy on the overlay drawing (to see which concerns a page asked to draw)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest


ROOT = Path(__file__).resolve().parents[1]
SCORES = {"acne": 96.0, "flek": 92.0, "wrinkle": 97.5, "panda_eye": 85.0, "overall": 92.62}


def page(name: str) -> AppTest:
    """A page run on its own, as AppTest drives it (TensorFlow import is slow: long timeout)."""
    return AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=120)


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


@pytest.fixture()
def downloads(monkeypatch):
    """Every file handed to a download button, by file name, as the browser would receive it."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files


@pytest.fixture()
def overlay_calls(monkeypatch):
    """The concerns of every ``overlay_masks`` call the page makes, in order."""
    from skin_app import overlay
    calls: list[list[str]] = []
    original = overlay.overlay_masks

    def spy(crop, masks, concerns, *args, **kwargs):
        calls.append(list(concerns))
        return original(crop, masks, concerns, *args, **kwargs)

    monkeypatch.setattr(overlay, "overlay_masks", spy)
    return calls


def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def figure(at: AppTest, key: str) -> dict:
    """The plotly figure a page drew with ``key``, as JSON."""
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id]
    return json.loads(chart.proto.spec)


def texts(elements) -> list[str]:
    return [e.value for e in elements]
