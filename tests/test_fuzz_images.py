"""Seeded fuzz of photo intake: mutated JPEG, PNG, HEIC, TIFF, WebP and BMP files, crafted headers, and
large files just inside the limits. Every input gets a picture or a clear refusal (an ImageError with a
code), never another exception or a hang, and one process never holds more than 300 MB over its
baseline for any of them. Inputs and runner: tests/fuzz_corpus.py (figures: bench/bench_hostile.py)."""
from __future__ import annotations

import pytest

from tests.fuzz_corpus import assert_handled, run_class

IMAGE_BUDGET_MB = 300


@pytest.mark.parametrize("cls", ["jpeg", "png", "heic", "tiff", "webp_bmp"])
def test_mutated_photos_get_a_picture_or_a_clear_refusal(cls):
    assert_handled(run_class(cls, seed=10, n=36), IMAGE_BUDGET_MB, tried=36)


def test_crafted_headers_are_refused_before_they_cost_memory():
    stats = run_class("crafted_headers", seed=10, n=99)
    assert stats["crashes"] == []
    assert stats["accepted"] <= 1                      # the 16-bit RGB TIFF in strips is a real, small photo
    assert {"too_much_memory", "too_many_pixels", "bad_shape", "not_an_image", "too_many_scans",
            "too_much_metadata"} <= set(stats["refused"])
    assert stats["peak_over_baseline_mb"] < IMAGE_BUDGET_MB


def test_large_photos_inside_the_limits_decode_within_the_budget():
    stats = run_class("big_but_allowed", seed=10, n=4)
    assert stats["crashes"] == [] and stats["accepted"] == 4
    assert stats["peak_over_baseline_mb"] < IMAGE_BUDGET_MB
