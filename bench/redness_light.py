"""Light that redness cannot read, on ordinary faces: light of two colours across the face, and skin whose red
channel is full.

    python bench/redness_light.py --data ../shared/data [--split train] [--per-set 400] [--out FILE]

Front faces of CelebAMask, FASSEG and HELEN (at most ``--per-set`` per set, in file order) that the photo check
passes, each saved as a JPEG (quality 95) and checked as the app checks it (``check_photo``). Two figures, the
ones the check stores: ``skin_side_gap`` (``redness.side_gap``: how far the skin's redness baseline reads apart
on the face's two halves) and ``skin_red_clipped`` (``redness.clipped_share``: the share of the face outline
whose red or green channel is at the camera's top). For each: its distribution, how many faces pass the warn and
limit lines of ``quality.py`` (``WARN_SIDE_GAP``/``LIMIT_SIDE_GAP``, ``WARN_RED_CLIPPED``/``LIMIT_RED_CLIPPED``),
the same by ITA band (ITA of the face outline), and the faces above the warn line. Writes every face's figures
to ``--out`` (default: ``bench/results/redness_light_<split>.json``).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from skin_app.scan import quality, tone  # noqa: E402
from skin_app.scan.analysis import check_photo  # noqa: E402
from skin_app.scan.face import face_oval_mask  # noqa: E402
from skin_app.training.datasets import iter_samples  # noqa: E402

SETS = ("celebamask_mini", "fasseg_frontal02", "helen_68lm")


def measure(image: np.ndarray) -> dict | None:
    """The stored figures and the outline's ITA of one photo, or None when the check refuses it or has no gap."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=95)
    checked = check_photo(buf.getvalue(), "front")
    gap = checked.quality.measurements.get("skin_side_gap")
    full = checked.quality.measurements.get("skin_red_clipped")
    if not checked.quality.ok or checked.aligned is None or gap is None:
        return None
    crop = checked.aligned.crop
    t = tone.skin_tone(crop, face_oval_mask(checked.aligned.points, crop.shape[0]))
    return {"gap": gap, "red_clipped": full, "outline_ita": None if t is None else round(t.ita, 1)}


def report(rows: list[dict], key: str, label: str, warn: float, limit: float, split: str) -> None:
    """One figure's distribution, the faces past its warn and limit lines, by ITA band, and the faces warned."""
    values = np.array([r[key] for r in rows])
    print(f"{label}: {len(rows)} {split} front faces: median {np.median(values):.3f}, p90 {np.percentile(values, 90):.3f}, "
          f"p99 {np.percentile(values, 99):.3f}, max {values.max():.3f}; above {warn} (warned): "
          f"{int((values > warn).sum())}, above {limit} (redness not measured): {int((values > limit).sum())}")
    bands: dict[str, list[float]] = {}
    for r in rows:
        if r["outline_ita"] is not None:
            bands.setdefault(tone.ita_band(r["outline_ita"]), []).append(r[key])
    for band in tone.BAND_NAMES:
        v = np.array(bands.get(band, []))
        if v.size:
            print(f"  {band:12s} n={v.size:4d}  median {np.median(v):.3f}  above {warn}: {int((v > warn).sum())}  "
                  f"above {limit}: {int((v > limit).sum())}")
    for r in sorted(rows, key=lambda r: -r[key]):
        if r[key] > warn:
            print(f"  {r[key]:.3f}  {r['dataset']}/{r['name']}  outline ITA {r['outline_ita']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--split", default="train", choices=("train", "val"))
    ap.add_argument("--per-set", type=int, default=400)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    rows = []
    for name in SETS:
        n = 0
        for s in iter_samples(a.data, [name], a.split):
            if n >= a.per_set:
                break
            m = measure(s.image)
            if m is not None:
                rows.append({"dataset": name, "name": s.name, **m})
                n += 1
    for key, label, warn, limit in (("gap", "two-colour gap", quality.WARN_SIDE_GAP, quality.LIMIT_SIDE_GAP),
                                    ("red_clipped", "red channel full", quality.WARN_RED_CLIPPED,
                                     quality.LIMIT_RED_CLIPPED)):
        report(rows, key, label, warn, limit, a.split)
    out = a.out or ROOT / "bench" / "results" / f"redness_light_{a.split}.json"
    out.write_text(json.dumps(rows, indent=0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
