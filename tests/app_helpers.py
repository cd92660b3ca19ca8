"""Helpers for the AppTest page tests: a temporary database, files handed to download buttons, and
a spy on the overlay drawing (to see which concerns a page asked to draw)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.runtime.download_data_util import convert_data_to_bytes_and_infer_mime
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SCORES = {"acne": 96.0, "flek": 92.0, "wrinkle": 97.5, "panda_eye": 85.0, "overall": 92.62}


def page(name: str) -> AppTest:
    """A page run on its own, as AppTest drives it (TensorFlow import is slow: long timeout)."""
    return AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=120)


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


class Downloads(dict):
    """File name -> bytes of every download button. A button whose data is a callable (built only when
    clicked) is clicked on first lookup: its file is made then, as the browser's click would."""

    def __init__(self) -> None:
        super().__init__()
        self.deferred: dict[str, Callable[[], Any]] = {}

    def __missing__(self, filename: str) -> bytes:
        data, _mime = convert_data_to_bytes_and_infer_mime(self.deferred[filename](), unsupported_error=TypeError())
        self[filename] = data
        return data


def spy_downloads(monkeypatch) -> Downloads:
    """Every file handed to a download button, by file name, as the browser would receive it (the
    ``downloads`` fixture of ``conftest.py``)."""
    files = Downloads()
    original = MemoryMediaFileStorage.load_and_get_id
    original_deferred = MediaFileManager.add_deferred

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    def spy_deferred(self, data_callable, mimetype, coordinates, file_name=None):
        if file_name:
            files.pop(file_name, None)
            files.deferred[file_name] = data_callable
        return original_deferred(self, data_callable, mimetype, coordinates, file_name)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy_deferred)
    return files


def spy_overlays(monkeypatch) -> list[list[str]]:
    """The concerns of every ``overlay_masks`` call the page makes, in order (the ``overlay_calls``
    fixture of ``conftest.py``)."""
    from skin_app.scan import overlay
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
