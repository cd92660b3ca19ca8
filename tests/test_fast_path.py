"""The fast inference path (TensorFlow Lite, dynamic-range int8) agrees with the Keras reference on
real photos, is cached by the weights' hash, and averages a crop with its mirror in one call."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from skin_app.concerns import CHANNELS
from skin_app.scan.segmentation import (
    FAST_CACHE_KEEP,
    FAST_KIND,
    INPUT_SIZE,
    SkinSegmenter,
    TFLiteEngine,
    cached_fast_model,
    fast_cache_path,
    prune_fast_cache,
)
from tests.photos import FIXTURES, astronaut_jpeg

# The tolerances, per photo here (the parity tool checks the same on all validation photos).
SCORE_TOL = 1.0          # points
AREA_TOL = 0.01          # share of the crop, thresholded masks
SOFT_AREA_TOL = 0.005    # mean probability


def real_photos() -> dict[str, bytes]:
    """Public-domain portraits (tests/fixtures/PHOTOS.md), and one mirrored: a different input."""
    import io

    from PIL import Image
    hopper = (FIXTURES / "grace_hopper.jpg").read_bytes()
    mirrored = io.BytesIO()
    Image.open(io.BytesIO(hopper)).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored, "JPEG", quality=95)
    return {"astronaut": astronaut_jpeg(), "grace_hopper": hopper, "grace_hopper_mirrored": mirrored.getvalue()}


@pytest.fixture(scope="module")
def reference(segmenter) -> SkinSegmenter:
    return SkinSegmenter(segmenter.reference(), segmenter.version, segmenter.thresholds)


def test_the_app_runs_the_converted_model(segmenter):
    assert isinstance(segmenter.engine, TFLiteEngine)
    assert segmenter.engine.kind == FAST_KIND == "dynamic_int8"
    assert segmenter.engine.sizes() == (INPUT_SIZE,)


def test_the_converted_model_is_cached_under_the_weights_hash(segmenter):
    from skin_app.config import model_path
    digest = hashlib.sha256(model_path().read_bytes()).hexdigest()
    path = fast_cache_path(digest)
    assert path.exists() and digest[:16] in path.name
    assert path.read_bytes() == segmenter.engine.flatbuffer


def test_only_the_most_recently_used_converted_models_are_kept(tmp_path):
    import os
    import time
    now = time.time()
    for age_days, name in ((30, "skin-old"), (2, "skin-previous"), (0, "skin-current"), (9, "skin-older")):
        path = tmp_path / f"{name}-dynamic_int8-tf2.19.1.tflite"
        path.write_bytes(b"x")
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    crashed = tmp_path / "skin-current-dynamic_int8-tf2.19.1.tmp123"
    crashed.write_bytes(b"half")
    os.utime(crashed, (now - 7200, now - 7200))
    (tmp_path / "notes.txt").write_text("not ours")
    prune_fast_cache(tmp_path)
    left = sorted(p.name.split("-")[1] for p in tmp_path.glob("skin-*"))
    assert FAST_CACHE_KEEP == 2 and left == ["current", "previous"]
    assert (tmp_path / "notes.txt").exists()


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "grace_hopper_mirrored"])
def test_fast_path_agrees_with_the_reference_on_a_real_photo(segmenter, reference, name):
    from skin_app.scan.analysis import analyze
    photo = real_photos()[name]
    fast, ref = analyze(photo, segmenter), analyze(photo, reference)
    assert np.array_equal(fast.crop, ref.crop)          # same face, same crop: only the engine differs
    for concern, value in ref.scores.items():
        assert abs(fast.scores[concern] - value) <= SCORE_TOL, concern
    for ch in CHANNELS:
        assert abs(fast.masks[ch].mean() - ref.masks[ch].mean()) <= AREA_TOL, ch
        assert abs(fast.probabilities[ch].mean() - ref.probabilities[ch].mean()) <= SOFT_AREA_TOL, ch
    for ch in ("face_skin", "eye"):                     # the large regions overlap almost entirely
        inter = (fast.masks[ch] & ref.masks[ch]).sum()
        union = (fast.masks[ch] | ref.masks[ch]).sum()
        assert inter / union >= 0.95, ch


def test_flip_average_is_the_mean_of_the_crop_and_its_mirror(segmenter, reference):
    from skin_app.scan.analysis import analyze
    crop = analyze(astronaut_jpeg(), segmenter).crop
    for seg in (segmenter, reference):
        plain, mirrored = seg.predict(crop), seg.predict(np.ascontiguousarray(crop[:, ::-1]))
        averaged = seg.predict(crop, flip_average=True)
        assert averaged.shape == (INPUT_SIZE, INPUT_SIZE, len(CHANNELS)) and averaged.dtype == np.float32
        assert np.abs(averaged - (plain + mirrored[:, ::-1]) / 2).max() < 1e-4   # batch of two == two calls
        assert not np.allclose(plain, mirrored[:, ::-1], atol=1e-3)   # the mirror really is another input


def test_flip_average_of_a_mirror_symmetric_crop_is_mirror_symmetric(segmenter):
    from skin_app.scan.analysis import analyze
    half = analyze(astronaut_jpeg(), segmenter).crop[:, :INPUT_SIZE // 2]
    symmetric = np.ascontiguousarray(np.concatenate([half, half[:, ::-1]], axis=1))
    out = segmenter.predict(symmetric, flip_average=True)
    assert np.abs(out - out[:, ::-1]).max() < 1e-5


def test_a_crop_of_another_size_goes_through_the_reference(segmenter):
    out = segmenter.predict(np.zeros((256, 256, 3), np.uint8))
    assert out.shape == (256, 256, len(CHANNELS))


def test_new_weights_get_a_new_conversion_and_known_weights_reuse_theirs(tmp_path, monkeypatch):
    import tensorflow as tf
    monkeypatch.setenv("SKINGORITHM_HOME", str(tmp_path))
    calls = []

    def tiny_model():           # a real (small) Keras model, so the conversion is real but quick
        calls.append(1)
        x = tf.keras.Input((None, None, 3))
        return tf.keras.Model(x, tf.keras.layers.Conv2D(len(CHANNELS), 3, padding="same", activation="sigmoid")(x))

    first = cached_fast_model(tiny_model, "a" * 64)
    assert calls == [1] and fast_cache_path("a" * 64).read_bytes() == first
    assert cached_fast_model(tiny_model, "a" * 64) == first and calls == [1]      # cache hit: no conversion
    cached_fast_model(tiny_model, "b" * 64)                                         # other weights: converted
    assert calls == [1, 1] and fast_cache_path("b" * 64).exists()
    fast_cache_path("a" * 64).write_bytes(b"half a file")                           # a damaged cache is rebuilt
    assert cached_fast_model(tiny_model, "a" * 64)[4:8] == b"TFL3" and len(calls) == 3


def test_converting_new_weights_retires_the_least_recently_used_conversion(tmp_path, monkeypatch):
    import os
    import time

    import tensorflow as tf
    monkeypatch.setenv("SKINGORITHM_HOME", str(tmp_path))

    def tiny_model():
        x = tf.keras.Input((None, None, 3))
        return tf.keras.Model(x, tf.keras.layers.Conv2D(len(CHANNELS), 3, padding="same", activation="sigmoid")(x))
    for age, digest in ((300, "a" * 64), (200, "b" * 64)):
        cached_fast_model(tiny_model, digest)
        os.utime(fast_cache_path(digest), (time.time() - age, time.time() - age))
    cached_fast_model(tiny_model, "a" * 64)          # used again: now the most recent but one
    cached_fast_model(tiny_model, "c" * 64)          # a third conversion
    assert fast_cache_path("a" * 64).exists() and fast_cache_path("c" * 64).exists()
    assert not fast_cache_path("b" * 64).exists()


def test_a_small_face_in_a_big_jpeg_is_decoded_again_aimed_at_the_face():
    import io

    from PIL import Image

    from skin_app.scan import face as face_mod
    from skin_app.scan.analysis import _aim_at_face
    from skin_app.scan.imaging import load_image
    canvas = Image.new("RGB", (4000, 3000), (96, 96, 96))       # a 12 MP photo, the portrait small in it
    canvas.paste(Image.open(FIXTURES / "grace_hopper.jpg"), (1700, 1200))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=92)
    coarse = load_image(buf.getvalue())
    faces = face_mod.find_faces(coarse.rgb)
    assert coarse.scale == 0.25 and faces
    finer, carried = _aim_at_face(buf.getvalue(), coarse, faces)
    assert finer.scale > coarse.scale
    k = finer.scale / coarse.scale
    assert np.allclose(carried[0].points, faces[0].points * k)
    found = face_mod.find_faces(finer.rgb)[0]                  # the mesh on the finer image lands alike
    x0, _, x1, _ = found.bbox
    assert np.median(np.abs(found.points[:, :2] - carried[0].points[:, :2])) < 0.03 * (x1 - x0)


def test_a_face_large_enough_keeps_the_first_decode():
    from skin_app.scan import face as face_mod
    from skin_app.scan.analysis import _aim_at_face
    from skin_app.scan.imaging import load_image
    photo = real_photos()["grace_hopper"]
    loaded = load_image(photo)
    faces = face_mod.find_faces(loaded.rgb)
    assert _aim_at_face(photo, loaded, faces) == (loaded, faces)
