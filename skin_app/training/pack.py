"""Packs the training photos into one compact file, so training can run elsewhere (a GPU machine).

Every sample is letterboxed to ``size`` x ``size`` (black bars, labels IGNORE in the bars); images are
stored as WebP (or JPEG) bytes, code maps as one zlib-compressed byte string per labelled channel.
WebP at quality 80 is about half the size of JPEG at 88 for these photos, which is what lets the
training photos travel to a GPU machine in one go (64 MiB limit).

    python -m skin_app.training.pack --data ../shared/data --out packs/train_384.npz --size 384 \
        --split train --quality 72 --quality-for acne04v2_512=82 gjain_freckle_acne=82
"""
from __future__ import annotations

import argparse
import io
import itertools
import zlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from skin_app.concerns import CHANNELS
from skin_app.training.datasets import IGNORE, Sample, iter_samples, load_seed_tiff_stack


def letterbox(image: np.ndarray, codes: dict[str, np.ndarray], size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    image, codes, _ = letterbox_with_transform(image, codes, size)
    return image, codes


def letterbox_with_transform(image: np.ndarray, codes: dict[str, np.ndarray], size: int):
    """Like ``letterbox``, also returning (scale, left, top) to map points: x' = x * scale + left."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    top, left = (size - nh) // 2, (size - nw) // 2
    out = np.zeros((size, size, 3), np.uint8)
    out[top:top + nh, left:left + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    out_codes = {}
    for ch, code in codes.items():
        c = np.full((size, size), IGNORE, np.uint8)
        c[top:top + nh, left:left + nw] = _resize_codes(code, (nw, nh))
        out_codes[ch] = c
    return out, out_codes, (scale, left, top)


def _resize_codes(code: np.ndarray, wh: tuple[int, int]) -> np.ndarray:
    """Shrinks a code map without losing thin positives: a pixel is positive if any source pixel under
    it is (max-pool), weak likewise, and ignore wins over negative."""
    w, h = wh
    if code.shape[1] == w and code.shape[0] == h:
        return code
    out = np.zeros((h, w), np.uint8)
    for value in (IGNORE, 2, 1):
        m = (code == value).astype(np.float32)
        r = cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA)
        thr = 0.5 if value == IGNORE else 0.2
        out[(r > thr) & (out == 0)] = value
    return out


HARD_NEGATIVE_CHANNELS = ("acne", "flek")


def with_hard_negatives(s: Sample) -> dict[str, np.ndarray]:
    """The sample's codes plus, where it knows pixels hold no lesion (hair, brows, background), acne
    and dark-spot codes: negative there, ignored elsewhere (its skin may hold unlabelled lesions)."""
    codes = dict(s.codes)
    if s.not_lesion is None or not s.not_lesion.any():
        return codes
    for ch in HARD_NEGATIVE_CHANNELS:
        if ch not in codes:
            c = np.full(s.not_lesion.shape, IGNORE, np.uint8)
            c[s.not_lesion] = 0
            codes[ch] = c
    return codes


def encode_sample(s: Sample, size: int, quality: int, fmt: str = "WEBP", hard_negatives: bool = False) -> dict:
    image, codes = letterbox(s.image, with_hard_negatives(s) if hard_negatives else s.codes, size)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, quality=quality)
    present = np.array([ch in codes for ch in CHANNELS], bool)
    parts = [zlib.compress(codes[ch].tobytes(), 6) if ch in codes else b"" for ch in CHANNELS]
    return {"image": buf.getvalue(), "present": present, "codes": b"".join(parts), "lengths": [len(p) for p in parts]}


def build_pack(data_root: Path | None, out: Path, size: int, quality: int = 80, datasets: list[str] | None = None,
               split: str | None = None, quality_for: dict[str, int] | None = None, fmt: str = "WEBP",
               seed_stacks: Sequence[tuple[Path, Path, str]] = (), hard_negatives: bool = False) -> dict:
    """Packs every sample under ``data_root`` (may be None) plus the seed project's TIFF stacks, given
    as (images.tif, masks.tif, channel) triples."""
    samples = iter_samples(data_root, datasets, split) if data_root is not None else iter(())
    extra = (s for images, masks, channel in seed_stacks for s in load_seed_tiff_stack(images, masks, channel)
             if split is None or s.split == split)
    rows = [(s.dataset, s.name, s.split, encode_sample(s, size, (quality_for or {}).get(s.dataset, quality), fmt,
                                                        hard_negatives))
            for s in itertools.chain(samples, extra)]
    return write_pack(rows, out, size)


def write_pack(rows: Sequence[tuple[str, str, str, dict]], out: Path, size: int) -> dict:
    """Writes (dataset, name, split, ``encode_sample`` result) rows as one pack file."""
    image_lengths = np.array([len(r[3]["image"]) for r in rows], np.int64)
    code_lengths = np.array([r[3]["lengths"] for r in rows], np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        size=np.int64(size),
        channels=np.array(CHANNELS),
        dataset=np.array([r[0] for r in rows]),
        name=np.array([r[1] for r in rows]),
        split=np.array([r[2] for r in rows]),
        present=np.stack([r[3]["present"] for r in rows]),
        image=np.frombuffer(b"".join(r[3]["image"] for r in rows), np.uint8),
        image_lengths=image_lengths,
        codes=np.frombuffer(b"".join(r[3]["codes"] for r in rows), np.uint8),
        code_lengths=code_lengths,
    )
    return {"samples": len(rows), "bytes": out.stat().st_size}


def _decode(item: tuple[bytes, list[bytes], int]) -> tuple[np.ndarray, np.ndarray]:
    image_bytes, code_parts, size = item
    image = np.asarray(Image.open(io.BytesIO(image_bytes)).convert("RGB"))
    maps = np.full((len(CHANNELS), size, size), IGNORE, np.uint8)
    for c, part in enumerate(code_parts):
        if part:
            maps[c] = np.frombuffer(zlib.decompress(part), np.uint8).reshape(size, size)
    return image, maps


def read_pack(path: Path, split: str | None = None, workers: int | None = None):
    """Yields (dataset, name, split, image uint8 HxWx3, codes uint8 6xHxW with IGNORE where absent, present),
    decoding in ``workers`` threads (Pillow and zlib release the GIL; processes would spend their
    time pickling megabytes of pixels back)."""
    import os
    from concurrent.futures import ThreadPoolExecutor
    z = np.load(path)
    size = int(z["size"])
    blob, jl = z["image"].tobytes(), z["image_lengths"]
    codes, cl = z["codes"].tobytes(), z["code_lengths"].reshape(-1)
    jo = np.concatenate([[0], np.cumsum(jl)])
    co = np.concatenate([[0], np.cumsum(cl)])
    keep = [i for i in range(len(jl)) if split is None or str(z["split"][i]) == split]
    n_ch = len(CHANNELS)
    items = [(blob[jo[i]:jo[i + 1]], [codes[co[i * n_ch + c]:co[i * n_ch + c + 1]] for c in range(n_ch)], size)
             for i in keep]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        for i, (image, maps) in zip(keep, pool.map(_decode, items)):
            yield str(z["dataset"][i]), str(z["name"][i]), str(z["split"][i]), image, maps, z["present"][i]


def load_pack_arrays(path: Path, split: str | None = None) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """A pack (or one split of it) in memory: images uint8 (N, S, S, 3), codes uint8 (N, 6, S, S),
    dataset and photo names; what both trainers start from."""
    rows = list(read_pack(path, split))
    return (np.stack([r[3] for r in rows]), np.stack([r[4] for r in rows]),
            [r[0] for r in rows], [r[1] for r in rows])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="folder laid out like ../shared/data")
    ap.add_argument("--seed-tiff", nargs=3, action="append", default=[], metavar=("IMAGES_TIF", "MASKS_TIF", "CHANNEL"),
                    help="the seed project's ImageJ stacks: images (N,256,256,3), masks (N,256,256), and the channel "
                         "the masks label (face_skin, eye, acne, flek, wrinkle, panda_eye); repeatable")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--quality", type=int, default=80)
    ap.add_argument("--quality-for", nargs="*", default=[], metavar="DATASET=Q")
    ap.add_argument("--format", default="WEBP", choices=["WEBP", "JPEG"])
    ap.add_argument("--split", choices=["train", "val"])
    ap.add_argument("--datasets", nargs="*")
    ap.add_argument("--hard-negatives", action="store_true",
                    help="mark hair, brows and background of the face sets as acne / dark-spot negatives")
    a = ap.parse_args(argv)
    qf = {k: int(v) for k, v in (item.split("=") for item in a.quality_for)}
    if a.data is None and not a.seed_tiff:
        ap.error("give --data and/or --seed-tiff")
    stacks = [(Path(i), Path(m), ch) for i, m, ch in a.seed_tiff]
    print(build_pack(a.data, a.out, a.size, a.quality, a.datasets, a.split, qf, a.format, stacks, a.hard_negatives))


if __name__ == "__main__":
    main()
