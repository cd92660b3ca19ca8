"""Stored concern masks (skin_app/scan/pictures.py): one bit per concern, redness included; the RGBA form of
scans stored before redness existed still reads."""
import io

import numpy as np
from PIL import Image

from skin_app.concerns import CONCERNS, SCORED
from skin_app.scan.pictures import masks_to_png, png_to_masks


def _masks(size: int = 64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {c: rng.random((size, size)) > 0.7 for c in SCORED}


def test_every_concern_mask_redness_included_comes_back_as_stored():
    masks = _masks()
    back = png_to_masks(masks_to_png(masks, size=64))
    assert set(back) == set(SCORED)
    for c in SCORED:
        assert np.array_equal(back[c], masks[c]), c


def test_the_rgba_masks_of_a_scan_stored_before_redness_still_read_and_have_no_redness():
    masks = _masks()
    planes = np.stack([masks[c].astype(np.uint8) * 255 for c in CONCERNS], axis=-1)
    buf = io.BytesIO()
    Image.fromarray(planes, "RGBA").save(buf, format="PNG")
    back = png_to_masks(buf.getvalue())
    assert set(back) == set(CONCERNS)
    for c in CONCERNS:
        assert np.array_equal(back[c], masks[c]), c
