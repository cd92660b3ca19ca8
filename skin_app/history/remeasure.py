"""Redness for scans saved before it was measured (or measured under its first definition), read again
from the face picture the scan kept.

Why this is sound: redness is read from colour, not by the model, and the kept picture is the scan's own
aligned face crop (``pictures.STORED_SIZE`` px). The picture goes through the same photo check and
analysis as a new photo, and only its redness is kept: the model's four scores stay as they were saved
(the model reads a downsized crop differently: 2-6 points at the 95th percentile), and so does Overall,
which redness is not part of. On 40 validation faces, redness read from the kept picture was within 0.3
points of the photo's own at the 95th percentile, 0.4 at most (``bench/redness_from_picture.py``;
``tests/test_remeasure.py`` checks one face within ``AGREEMENT_POINTS``).

A scan whose picture cannot be read (no face found in it, colour the photo check does not trust) keeps
"not measured", with the reason stored (``metrics["redness_remeasured"]``), and is not tried again.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import cv2
import numpy as np

from skin_app.errors import FaceError, ImageError, InvalidRecordError
from skin_app.scan.pictures import STORED_SIZE, masks_to_png, png_to_masks
from skin_app.scan.redness import VERSION as REDNESS_VERSION
from skin_app.storage import Storage, StoredScan

DETAIL_RULES = ("blurry", "too_small")   # photo-check rules about detail, which colour does not need
FROM_PICTURE = "kept picture"   # metrics["redness_remeasured"]["from"]
AGREEMENT_POINTS = 1.0          # what the tests allow between the photo's redness and its kept picture's


@dataclass
class RemeasureReport:
    """What a run did: scans given a redness score, and the ones whose picture could not give one (why)."""
    measured: list[int] = field(default_factory=list)
    not_measured: dict[int, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One sentence in the app's own words (no user text in it)."""
        parts = [f"Redness measured on {len(self.measured)} scan(s) from their kept pictures"]
        if self.not_measured:
            reasons = sorted(set(self.not_measured.values()))
            parts.append(f"{len(self.not_measured)} could not be measured ({'; '.join(reasons)})")
        return "; ".join(parts) + "."


def needs_redness(scan: StoredScan) -> bool:
    """A scan that kept its picture and shows no redness because it was saved before redness was measured
    (no redness measurement) or under an earlier definition of it, and was not tried before. A scan measured
    under today's definition that has none (colour the photo check did not trust, too little skin) keeps
    the judgement made on the whole photo."""
    m = scan.metrics
    measured = m.get("redness")
    older = "redness" not in m or (isinstance(measured, dict) and measured.get("version") != REDNESS_VERSION)
    return (scan.has_picture and "redness" not in scan.scores and not scan.rescore_failed and older
            and m.get("redness_skipped") is None and m.get("redness_remeasured") is None)


def waiting(db: Storage, profile_id: int) -> list[StoredScan]:
    """The profile's scans (every view) whose redness can be read from their kept picture."""
    return [s for s in db.list_scans(profile_id) if needs_redness(s)]


@dataclass(frozen=True)
class PictureRedness:
    score: float | None           # None: not measurable from this picture (``reason`` says why)
    metrics: dict | None          # the redness measurements (``measure.py``'s ``metrics["redness"]``)
    per_region: dict[str, float]  # region -> red share, for the regions the scan's view shows
    mask: np.ndarray | None       # bool (STORED_SIZE, STORED_SIZE): the red areas, in the kept picture's frame
    reason: str = ""


def redness_of_picture(crop_png: bytes, view: str, segmenter=None, calibration=None) -> PictureRedness:
    """Redness read from a kept picture (PNG bytes), as a new photo of that view is read."""
    from skin_app.scan.analysis import analyze, check_photo
    try:
        checked = check_photo(crop_png, view)
        # The kept picture is small and soft by design (it was checked for detail when it was taken, and
        # redness is read from colour): the photo check's detail rules do not refuse it here.
        checked.quality.issues = [dataclasses.replace(i, blocking=False) if i.code in DETAIL_RULES else i
                                  for i in checked.quality.issues]
        result = analyze(crop_png, segmenter, view=view, checked=checked, calibration=calibration)
    except (FaceError, ImageError) as exc:      # no face in the picture, or a picture damaged since
        return PictureRedness(None, None, {}, None, exc.message)
    score = result.scores.get("redness")
    if score is None:
        return PictureRedness(None, None, {}, None, "the colour of the picture cannot be read")
    per_region = {name: shares["redness"] for name, shares in result.metrics.get("per_region", {}).items()
                  if isinstance(shares, dict) and "redness" in shares}
    return PictureRedness(float(score), result.metrics["redness"], per_region,
                          _in_picture_frame(result.masks["redness"], checked), "")


def _in_picture_frame(mask: np.ndarray, checked) -> np.ndarray:
    """The red-area mask, drawn on the analysis crop, moved back onto the kept picture (the analysis
    aligns the face again, so its crop is the picture re-framed)."""
    image = checked.loaded.rgb
    h, w = image.shape[:2]
    m = mask.astype(np.uint8)
    if checked.aligned is not None:
        m = cv2.warpAffine(m, checked.aligned.matrix, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    return cv2.resize(m, (STORED_SIZE, STORED_SIZE), interpolation=cv2.INTER_NEAREST) > 0


def _with_red_areas(masks_png: bytes | None, red: np.ndarray | None) -> bytes | None:
    """The stored masks with the red areas added; as they were when there are none, or when the stored
    masks cannot be read (a damaged import: the score is stored, the overlay is not redrawn)."""
    if masks_png is None or red is None:
        return masks_png
    try:
        masks = png_to_masks(masks_png, (STORED_SIZE, STORED_SIZE))
    except (ValueError, OSError):
        return masks_png
    masks["redness"] = red
    return masks_to_png(masks)


def remeasure_redness(db: Storage, profile_id: int, todo: list[StoredScan] | None = None, segmenter=None,
                      calibration=None, progress: Callable[[int, int], object] | None = None) -> RemeasureReport:
    """Reads redness from the kept picture of every scan of the profile that lacks it (``todo``: the ones
    ``waiting`` gave, when the caller has them already) and stores it, one scan per transaction, so a run
    stopped half way keeps what it measured. ``progress(done, total)`` is told after each scan."""
    report = RemeasureReport()
    todo = waiting(db, profile_id) if todo is None else [s for s in todo if needs_redness(s)]
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for i, scan in enumerate(todo):
        if scan.crop_png is None:       # ``needs_redness`` keeps only scans with a picture
            continue
        found = redness_of_picture(scan.crop_png, scan.view, segmenter, calibration)
        metrics = dict(scan.metrics)
        scores = dict(scan.scores)
        masks_png = scan.masks_png
        if found.score is None:
            metrics["redness_remeasured"] = {"from": FROM_PICTURE, "at": now, "not_measured": found.reason}
        else:
            scores["redness"] = round(found.score, 2)
            metrics["redness"] = found.metrics
            metrics["redness_remeasured"] = {"from": FROM_PICTURE, "at": now, "version": REDNESS_VERSION}
            stored_regions = metrics.get("per_region")
            per_region = {name: dict(shares) for name, shares in stored_regions.items()
                          if isinstance(shares, dict)} if isinstance(stored_regions, dict) else {}
            for name, share in found.per_region.items():
                per_region.setdefault(name, {})["redness"] = share
            metrics["per_region"] = per_region
            masks_png = _with_red_areas(masks_png, found.mask)
        try:
            db.update_scan_measurements(scan.id, profile_id, scores=scores, metrics=metrics, masks_png=masks_png)
        except InvalidRecordError:      # deleted meanwhile (another tab): nothing to store it in
            pass
        else:
            if found.score is None:
                report.not_measured[scan.id] = found.reason
            else:
                report.measured.append(scan.id)
        if progress:
            progress(i + 1, len(todo))
    return report
