"""Loaders for every labelled photo set we train on, into one common form.

Each dataset labels only some of the six channels, and in different ways. A loader turns one photo
into a :class:`Sample`: the RGB image and, per channel it labels, a *code map* of the same size:

    0   negative (this pixel is known not to be the target)
    1   positive
    2   weak positive region ("the target is somewhere in this box"; boxes from detection sets)
    255 ignore (unknown)

Channels a dataset does not label are simply absent from ``Sample.codes``; training masks them out
of the loss, so "not labelled here" is never read as "absent". Folders are laid out like
``../shared/data`` (see its README); a missing folder is skipped.

Split: ``split_of(dataset, group)`` puts a photo in "val" or "train" by a stable hash of its source
photo (duplicates and augmented copies share a group), except where the source set has its own
photo-disjoint split, which we keep.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from skin_app.concerns import CHANNELS

NEG, POS, WEAK, IGNORE = 0, 1, 2, 255
VAL_PERCENT = 15


@dataclass
class Sample:
    dataset: str
    name: str                      # file stem, unique inside the dataset
    group: str                     # source-photo key used for the split
    split: str                     # "train" or "val"
    image: np.ndarray              # uint8 (H, W, 3) RGB
    codes: dict[str, np.ndarray] = field(default_factory=dict)   # channel -> uint8 (H, W) code map
    points: np.ndarray | None = None   # optional lesion centres (N, 2) x, y (acne04)
    boxes: list[tuple[str, int, np.ndarray]] = field(default_factory=list)  # (channel, class, x0 y0 x1 y1)
    # Pixels known to hold no lesion (hair, eyebrows, background): hard negatives for acne and dark
    # spots, used only when packing for training (``pack --hard-negatives``), never in evaluation.
    not_lesion: np.ndarray | None = None
    # gjain close-ups: the hand-drawn rosacea (class 4) as a bool map, for the redness calibration
    # (redness is read from colour, not learnt: no channel, never packed for training).
    rosacea: np.ndarray | None = None


def split_of(dataset: str, group: str) -> str:
    digest = hashlib.sha1(f"{dataset}/{group}".encode()).hexdigest()
    return "val" if int(digest[:8], 16) % 100 < VAL_PERCENT else "train"


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _read_gray(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        a = np.asarray(im)
    return a.max(axis=2) if a.ndim == 3 else a


def _file_digest(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# CelebAMask classes that can hold no acne or dark spot: background, brows, hair, hat, cloth.
CELEBAMASK_NOT_LESION = (0, 6, 7, 13, 14, 18)


# -- CelebAMask-HQ mini: palette PNG, 19 classes ------------------------------------------------
def load_celebamask(root: Path) -> Iterator[Sample]:
    for img_path in sorted((root / "images").glob("*.jpg")):
        mask_path = root / "masks" / (img_path.stem + ".png")
        if not mask_path.exists():
            continue
        m = _read_gray(mask_path)
        skin = np.isin(m, (1, 2)).astype(np.uint8)          # face skin includes the nose
        eye = np.isin(m, (4, 5)).astype(np.uint8)
        # Eyeglasses (3) hide whether skin or eye lies beneath: ignore there.
        skin[m == 3] = IGNORE
        eye[m == 3] = IGNORE
        yield Sample("celebamask_mini", img_path.stem, img_path.stem,
                     split_of("celebamask_mini", img_path.stem), read_rgb(img_path),
                     {"face_skin": skin, "eye": eye}, not_lesion=np.isin(m, CELEBAMASK_NOT_LESION))


# -- FASSEG frontal02: RGB colour maps ---------------------------------------------------------
_FASSEG_PALETTE = np.array([(255, 255, 0), (0, 0, 255), (0, 255, 255), (0, 255, 0), (127, 0, 0), (255, 0, 0)],
                           dtype=np.int32)   # skin, eye, nose, mouth, hair, background


def load_fasseg(root: Path) -> Iterator[Sample]:
    for sub_rgb, sub_lab, split in (("Train_RGB", "Train_Labels", "train"), ("Test_RGB", "Test_Labels", "val")):
        for lab_path in sorted((root / sub_lab).glob("*.png")):
            candidates = [p for p in (root / sub_rgb).glob(lab_path.stem + ".*")]
            if not candidates:
                continue
            lab = np.asarray(Image.open(lab_path).convert("RGB")).astype(np.int32)
            d = ((lab[:, :, None, :] - _FASSEG_PALETTE[None, None]) ** 2).sum(-1)
            cls = d.argmin(-1)
            skin = np.isin(cls, (0, 2)).astype(np.uint8)
            eye = (cls == 1).astype(np.uint8)
            hair_bg = np.isin(cls, (4, 5)).astype(np.uint8)       # hair + brows, background
            image = read_rgb(candidates[0])
            if image.shape[:2] != skin.shape:
                skin, eye, hair_bg = (cv2.resize(m, image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
                                      for m in (skin, eye, hair_bg))
            yield Sample("fasseg_frontal02", f"{split}_{lab_path.stem}", f"{split}_{lab_path.stem}", split,
                         image, {"face_skin": skin, "eye": eye}, not_lesion=hair_bg > 0)


# -- HELEN with 68 landmarks: exact eye contours -----------------------------------------------
def load_helen(root: Path, margin: float = 1.7) -> Iterator[Sample]:
    """Eyes only (the face outline from 68 points is too rough for skin). Cropped to the face like the app."""
    for pts_path in sorted(root.glob("*/*.pts")):
        img_path = pts_path.with_suffix(".jpg")
        if not img_path.exists():
            continue
        pts = np.loadtxt(pts_path, dtype=np.float32).reshape(-1, 2)
        if pts.shape[0] != 68:
            continue
        image = read_rgb(img_path)
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.1 * (y1 - y0)
        half = max(x1 - x0, y1 - y0) * margin / 2
        box = np.array([cx - half, cy - half, cx + half, cy + half])
        eye = np.zeros(image.shape[:2], np.uint8)
        for idx in (range(36, 42), range(42, 48)):
            cv2.fillPoly(eye, [np.round(pts[list(idx)]).astype(np.int32)], 1)
        # The polygon edge is approximate: ignore a thin band around it.
        band = cv2.dilate(eye, np.ones((3, 3), np.uint8)) - cv2.erode(eye, np.ones((3, 3), np.uint8))
        eye[band > 0] = IGNORE
        image, (eye,) = _crop_square(image, [eye], box)
        yield Sample("helen_68lm", pts_path.stem, pts_path.stem, split_of("helen_68lm", pts_path.stem), image,
                     {"eye": eye})


def _crop_square(image: np.ndarray, maps: list[np.ndarray], box: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Crops [x0, y0, x1, y1] (may leave the image: padded black, labels IGNORE there)."""
    x0, y0, x1, y1 = np.round(box).astype(int)
    h, w = image.shape[:2]
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        maps = [cv2.copyMakeBorder(m, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=IGNORE) for m in maps]
        x0, x1, y0, y1 = x0 + pad, x1 + pad, y0 + pad, y1 + pad
    return image[y0:y1, x0:x1], [m[y0:y1, x0:x1] for m in maps]


# -- ACNE04 v2: lesion disks on letterboxed 512 px photos --------------------------------------
def load_acne04(root: Path) -> Iterator[Sample]:
    ann_path = root / "annotations_512.json"
    centres: dict[str, list] = {}
    boxes: dict[str, list] = {}
    if ann_path.exists():
        ann = json.loads(ann_path.read_text())
        by_id = {im["id"]: im for im in ann["images"]}
        for a in ann["annotations"]:
            centres.setdefault(by_id[a["image_id"]]["file_name"], []).append(a["center"])
        boxes = {im["file_name"]: im.get("content_box") for im in ann["images"]}
    for img_path in sorted((root / "images").glob("*.jpg")):
        mask_path = root / "masks" / (img_path.stem + ".png")
        if not mask_path.exists():
            continue
        acne = (_read_gray(mask_path) > 127).astype(np.uint8)
        box = boxes.get(img_path.name)
        if box:   # letterbox bars carry no information
            x0, y0, x1, y1 = [int(round(v)) for v in box]
            outside = np.ones_like(acne, bool)
            outside[y0:y1, x0:x1] = False
            acne[outside] = IGNORE
        pts = np.array(centres.get(img_path.name, []), np.float32).reshape(-1, 2)
        yield Sample("acne04v2_512", img_path.stem, img_path.stem, split_of("acne04v2_512", img_path.stem),
                     read_rgb(img_path), {"acne": acne}, points=pts)


# -- gjain: wrinkles and dark circles (pixel masks, 500 px aligned faces) -----------------------
def _digest_groups(paths: list[Path]) -> dict[Path, str]:
    """Byte-identical photos (the set holds a few duplicates) share a split group."""
    first: dict[str, str] = {}
    out = {}
    for p in paths:
        d = _file_digest(p)
        out[p] = first.setdefault(d, p.stem)
    return out


def load_gjain_wrinkle_darkcircle(root: Path) -> Iterator[Sample]:
    paths = sorted((root / "images").glob("*"))
    groups = _digest_groups(paths)
    for img_path in paths:
        cls_path = root / "masks_classes" / (img_path.stem + ".png")
        if not cls_path.exists():
            continue
        cls = _read_gray(cls_path)
        void = cls == 0
        wrinkle = (cls == 3).astype(np.uint8)
        panda = (cls == 1).astype(np.uint8)
        # Hand-drawn wrinkle lines are 1-3 px wide and placed by hand: a 1 px band next to a line is
        # neither clearly wrinkle nor clearly not, so it is ignored rather than punished.
        near = cv2.dilate(wrinkle, np.ones((3, 3), np.uint8)) > 0
        wrinkle[near & (wrinkle == 0)] = IGNORE
        wrinkle[void] = IGNORE
        panda[void] = IGNORE
        g = groups[img_path]
        yield Sample("gjain_wrinkle_darkcircle", img_path.stem, g, split_of("gjain_wrinkle_darkcircle", g),
                     read_rgb(img_path), {"wrinkle": wrinkle, "panda_eye": panda})


# -- gjain: freckles (partial) and acne on close-up web photos -----------------------------------
def load_gjain_freckle_acne(root: Path, ring: int = 6) -> Iterator[Sample]:
    """Freckles are only partly marked: skin within ``ring`` px of a marked dot counts as negative,
    everything farther is ignored (an unmarked freckle is not a negative)."""
    paths = sorted((root / "images").glob("*"))
    groups = _digest_groups(paths)
    for img_path in paths:
        f_path = root / "masks_freckle" / (img_path.stem + ".png")
        a_path = root / "masks_acne" / (img_path.stem + ".png")
        cls_path = root / "masks_classes" / (img_path.stem + ".png")
        if not (f_path.exists() and a_path.exists()):
            continue
        image = read_rgb(img_path)
        freckle = (_read_gray(f_path) > 127).astype(np.uint8)
        acne = (_read_gray(a_path) > 127).astype(np.uint8)
        codes: dict[str, np.ndarray] = {}
        if freckle.any():
            near = cv2.dilate(freckle, np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)) > 0
            flek = np.full_like(freckle, IGNORE)
            flek[near] = NEG
            flek[freckle > 0] = POS
            codes["flek"] = flek
        if cls_path.exists():
            cls = _read_gray(cls_path)
            acne_code = acne.copy()
            acne_code[cls == 0] = IGNORE
            # Resize artefacts ring every blob: a 1 px band around acne is ignored.
            band = (cv2.dilate(acne, np.ones((3, 3), np.uint8)) > 0) & (acne == 0)
            acne_code[band] = IGNORE
            if freckle.any():
                acne_code[cv2.dilate(freckle, np.ones((5, 5), np.uint8)) > 0] = IGNORE
            codes["acne"] = acne_code
        if not codes:
            continue
        g = groups[img_path]
        rosacea = (_read_gray(cls_path) == 4) if cls_path.exists() else None
        yield Sample("gjain_freckle_acne", img_path.stem, g, split_of("gjain_freckle_acne", g), image, codes,
                     rosacea=rosacea)


# -- YOLO box sets: wrinkles (javad71) and dark circles ----------------------------------------
def _yolo_boxes(label_path: Path, w: int, h: int) -> list[tuple[int, np.ndarray]]:
    out: list[tuple[int, np.ndarray]] = []
    if not label_path.exists():
        return out
    for line in label_path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue
        c, cx, cy, bw, bh = int(parts[0]), *map(float, parts[1:])
        out.append((c, np.array([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h])))
    return out


def _source_stem(name: str) -> str:
    return re.split(r"\.rf\.", name)[0]


def _boxed_photos(root: Path, splits: tuple[tuple[str, str], ...]):
    """(image path, our split, RGB image, [(class, box)]) for every photo of a YOLO export with boxes."""
    for split_dir, split in splits:
        for img_path in sorted((root / split_dir / "images").glob("*")):
            image = read_rgb(img_path)
            h, w = image.shape[:2]
            boxes = _yolo_boxes(root / split_dir / "labels" / (img_path.stem + ".txt"), w, h)
            if boxes:
                yield img_path, split, image, boxes


def load_javad_wrinkles(root: Path) -> Iterator[Sample]:
    """Boxes around wrinkle segments: inside a box = weak positive; outside every box = negative.
    The photos show whole heads and backgrounds; only the area near the boxes is trusted as negative."""
    for img_path, split, image, boxes in _boxed_photos(root, (("train", "train"), ("valid", "val"), ("test", "val"))):
        code = np.full(image.shape[:2], IGNORE, np.uint8)
        allb = np.array([b for _, b in boxes])
        # Negatives: inside the hull of all boxes (the labelled face area) but outside each box.
        x0, y0 = np.clip(allb[:, :2].min(0), 0, None).astype(int)
        x1, y1 = allb[:, 2:].max(0).astype(int)
        code[y0:y1, x0:x1] = NEG
        for _, b in boxes:
            bx0, by0, bx1, by1 = np.round(b).astype(int)
            code[max(by0, 0):by1, max(bx0, 0):bx1] = WEAK
        yield Sample("javad71_wrinkle_boxes", img_path.stem, _source_stem(img_path.name), split, image,
                     {"wrinkle": code}, boxes=[("wrinkle", c, b) for c, b in boxes])


def load_darkcircle_boxes(root: Path) -> Iterator[Sample]:
    """Classes 0-2 (high/low/moderate) are dark circles (weak positive boxes); 3 marks an under-eye
    without one (negative). Pixels outside every box are ignored: many photos are eye close-ups where
    an unboxed under-eye may still be dark."""
    splits = (("train", "train"), ("valid", "val"), ("test", "val"))
    for img_path, split, image, boxes in _boxed_photos(root, splits):
        code = np.full(image.shape[:2], IGNORE, np.uint8)
        for c, b in boxes:
            bx0, by0, bx1, by1 = np.round(b).astype(int)
            code[max(by0, 0):by1, max(bx0, 0):bx1] = NEG if c == 3 else WEAK
        yield Sample("darkcircle_boxes", img_path.stem, _source_stem(img_path.name), split, image,
                     {"panda_eye": code}, boxes=[("panda_eye", c, b) for c, b in boxes])


LOADERS: dict[str, Callable[[Path], Iterator[Sample]]] = {
    "celebamask_mini": load_celebamask,
    "fasseg_frontal02": load_fasseg,
    "helen_68lm": load_helen,
    "acne04v2_512": load_acne04,
    "gjain_wrinkle_darkcircle": load_gjain_wrinkle_darkcircle,
    "gjain_freckle_acne": load_gjain_freckle_acne,
    "javad71_wrinkle_boxes": load_javad_wrinkles,
    "darkcircle_boxes": load_darkcircle_boxes,
}


def iter_samples(data_root: Path, datasets: list[str] | None = None, split: str | None = None) -> Iterator[Sample]:
    """Every sample of every dataset present under ``data_root`` (absent folders are skipped)."""
    for name, loader in LOADERS.items():
        if datasets and name not in datasets:
            continue
        folder = Path(data_root) / name
        if not folder.is_dir():
            continue
        for s in loader(folder):
            if split is None or s.split == split:
                yield s


def load_seed_tiff_stack(images_tif: Path, masks_tif: Path, channel: str) -> Iterator[Sample]:
    """The seed project's format: an ImageJ TIFF stack of images (N, 256, 256, 3) and one of masks
    (N, 256, 256) for a single channel (non-zero = positive)."""
    import tifffile
    images = tifffile.imread(images_tif)
    masks = tifffile.imread(masks_tif)
    if images.ndim != 4 or images.shape[-1] != 3 or masks.shape[:3] != images.shape[:3]:
        raise ValueError(f"Expected images (N,H,W,3) and masks (N,H,W); got {images.shape} and {masks.shape}.")
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}.")
    for i, (im, m) in enumerate(zip(images, masks)):
        if im.dtype != np.uint8:
            im = np.clip(im.astype(np.float32) / max(float(im.max()), 1.0) * 255, 0, 255).astype(np.uint8)
        key = f"{Path(images_tif).stem}_{i}"
        yield Sample("seed_tiff", key, key, split_of("seed_tiff", key), im, {channel: (m > 0).astype(np.uint8)})
