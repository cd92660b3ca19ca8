"""The model loads in the background once per process, and whoever asks waits only for what is left."""
from __future__ import annotations

import pytest

from skin_app.scan.preload import Preloader, shared
from skin_app.scan.segmentation import ModelMissingError
from tests.hostile import PROMPTLY_SECONDS


def test_the_model_loads_in_the_background_and_is_ready_without_waiting_later():
    loader = Preloader().start()
    assert not loader.ready                        # start() returns at once; the loading goes on
    seg, waited = loader.get()
    assert seg.version.startswith("unet-resnet34") and waited > 0
    assert loader.ready
    again, waited_again = loader.get()
    assert again is seg and waited_again < PROMPTLY_SECONDS         # handed over, not loaded again


def test_the_server_and_the_pages_share_one_loader():
    assert shared() is shared() and shared().start() is shared()


def test_a_missing_model_is_reported_to_whoever_asks(tmp_path):
    loader = Preloader(str(tmp_path / "none.npz")).start()
    with pytest.raises(ModelMissingError):
        loader.get()
