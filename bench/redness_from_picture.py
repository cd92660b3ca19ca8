"""How close is redness read from a scan's kept picture (``history/remeasure.py``) to the redness of the
photo itself? Validation faces (CelebAMask, FASSEG), each analysed as the app analyses an upload, then
its kept picture (the aligned crop as ``save.py`` stores it, 256 px PNG) read again.

    python bench/redness_from_picture.py --data ../shared/data [--faces 40]

Reports the absolute difference in redness points (median, 95th percentile, largest), how many kept
pictures the photo check refused, and the same for the model's scores for contrast (those are not
re-measured: the model reads a downsized crop differently). Writes ``bench/results/redness_from_picture.json``.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--faces", type=int, default=40)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "redness_from_picture.json")
    a = ap.parse_args()
    from skin_app.errors import FaceError
    from skin_app.history.remeasure import redness_of_picture
    from skin_app.scan.analysis import analyze
    from skin_app.scan.pictures import crop_to_png
    from skin_app.training.datasets import iter_samples
    rows: list[dict[str, Any]] = []
    refused_photo = refused_picture = 0
    for s in iter_samples(a.data, ["celebamask_mini", "fasseg_frontal02"], split="val"):
        if len(rows) >= a.faces:
            break
        buf = io.BytesIO()
        Image.fromarray(s.image).save(buf, format="JPEG", quality=95)
        try:
            photo = analyze(buf.getvalue())
        except FaceError:
            refused_photo += 1
            continue
        if "redness" not in photo.scores:
            continue
        found = redness_of_picture(crop_to_png(photo.crop), "front")
        if found.score is None:
            refused_picture += 1
            continue
        picture = analyze(crop_to_png(photo.crop))
        rows.append({"name": s.name, "redness": photo.scores["redness"], "from_picture": found.score,
                     "model_scores_change": {k: round(picture.scores[k] - v, 2) for k, v in photo.scores.items()
                                             if k not in ("redness", "overall") and k in picture.scores}})
    diff = np.abs([r["from_picture"] - r["redness"] for r in rows])
    model = {k: float(np.quantile(np.abs([r["model_scores_change"][k] for r in rows]), 0.95))
             for k in rows[0]["model_scores_change"]} if rows else {}
    result = {"faces": len(rows), "photos_refused": refused_photo, "pictures_refused": refused_picture,
              "redness_abs_change": {"median": round(float(np.median(diff)), 2),
                                     "p95": round(float(np.quantile(diff, 0.95)), 2), "max": round(float(diff.max()), 2)},
              "model_scores_abs_change_p95": {k: round(v, 2) for k, v in model.items()}, "rows": rows}
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
