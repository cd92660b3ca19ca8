"""Training plumbing: dataset loaders (folder layouts like ../shared/data), the seed's TIFF stacks,
the pack format, the split, and the evaluation metrics."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from skin_app.training import datasets as ds
from skin_app.training.evaluate import blobs, evaluate, match_points
from skin_app.training.pack import build_pack, letterbox, read_pack
from tests.photos import astronaut_jpeg


def astronaut() -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB"))


def save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


@pytest.fixture
def data_root(tmp_path):
    """A miniature copy of the shared data layout, built from one real photo and hand-made labels."""
    root = tmp_path / "data"
    img = astronaut()
    # CelebAMask: aligned face photos with a palette mask, 1 skin, 2 nose, 4/5 eyes, 3 eyeglasses;
    # skin and eyes traced from the face mesh, a nose box and an eyeglasses corner by hand.
    import cv2

    from skin_app.scan import face
    aligned = face.align_and_crop(img, face.find_faces(img)[0], 512)
    pts = aligned.points
    m = np.zeros((512, 512), np.uint8)
    cv2.fillPoly(m, [np.round(pts[face.FACE_OVAL]).astype(np.int32)], 1)
    m[250:290, 235:265] = 2
    cv2.fillPoly(m, [np.round(pts[face.RIGHT_EYE]).astype(np.int32)], 4)
    cv2.fillPoly(m, [np.round(pts[face.LEFT_EYE]).astype(np.int32)], 5)
    m[0:10, 0:10] = 3
    save(root / "celebamask_mini/images/a.jpg", aligned.crop)
    save(root / "celebamask_mini/masks/a.png", m)
    # ACNE04: disk masks and circle annotations.
    acne = np.zeros((512, 512), np.uint8)
    acne[300:305, 200:205] = 255
    save(root / "acne04v2_512/images/levle1_7.jpg", img)
    save(root / "acne04v2_512/masks/levle1_7.png", acne)
    (root / "acne04v2_512/annotations_512.json").write_text(json.dumps({
        "images": [{"id": 0, "file_name": "levle1_7.jpg", "content_box": [0, 0, 512, 512]}],
        "annotations": [{"image_id": 0, "center": [202.0, 302.0], "radius": 2.5}]}))
    # gjain wrinkles/dark circles: class masks (0 void, 1 dark circle, 2 normal, 3 wrinkle).
    cls = np.full((512, 512), 2, np.uint8)
    cls[220:235, 200:240] = 1
    cls[160, 180:320] = 3
    save(root / "gjain_wrinkle_darkcircle/images/0001.png", img)
    save(root / "gjain_wrinkle_darkcircle/masks_classes/0001.png", cls)
    save(root / "gjain_wrinkle_darkcircle/images/0002.png", img)          # byte-identical duplicate
    save(root / "gjain_wrinkle_darkcircle/masks_classes/0002.png", cls)
    # javad wrinkle boxes (YOLO).
    save(root / "javad71_wrinkle_boxes/valid/images/12_jpg.rf.abc.jpg", img)
    (root / "javad71_wrinkle_boxes/valid/labels").mkdir(parents=True)
    (root / "javad71_wrinkle_boxes/valid/labels/12_jpg.rf.abc.txt").write_text("3 0.5 0.3 0.3 0.05\n2 0.35 0.42 0.06 0.06\n")
    return root


def test_celebamask_loader_maps_classes_to_skin_and_eye(data_root):
    (s,) = ds.load_celebamask(data_root / "celebamask_mini")
    assert set(s.codes) == {"face_skin", "eye"}
    assert s.codes["face_skin"][270, 250] == ds.POS          # nose counts as face skin
    assert (s.codes["eye"] == ds.POS).sum() > 50 and s.codes["eye"][270, 250] == ds.NEG
    assert s.codes["face_skin"][5, 5] == ds.IGNORE            # under eyeglasses: unknown


def test_acne_loader_keeps_lesion_centres(data_root):
    (s,) = ds.load_acne04(data_root / "acne04v2_512")
    assert s.codes["acne"][302, 202] == ds.POS
    assert s.points.tolist() == [[202.0, 302.0]]


def test_wrinkle_lines_get_an_ignore_band_and_duplicates_share_a_split_group(data_root):
    a, b = ds.load_gjain_wrinkle_darkcircle(data_root / "gjain_wrinkle_darkcircle")
    assert a.codes["wrinkle"][160, 250] == ds.POS
    assert a.codes["wrinkle"][161, 250] == ds.IGNORE
    assert a.codes["wrinkle"][300, 250] == ds.NEG
    assert a.codes["panda_eye"][225, 220] == ds.POS
    assert a.group == b.group and a.split == b.split


def test_box_labels_are_weak_inside_and_negative_between_boxes(data_root):
    (s,) = ds.load_javad_wrinkles(data_root / "javad71_wrinkle_boxes")
    code = s.codes["wrinkle"]
    assert code[int(0.3 * 512), 256] == ds.WEAK
    assert s.split == "val" and s.group == "12_jpg"
    assert (code == ds.NEG).any() and (code == ds.IGNORE).any()
    assert len(s.boxes) == 2


def test_split_is_stable_and_about_fifteen_percent():
    splits = [ds.split_of("x", f"photo{i}") for i in range(2000)]
    assert splits == [ds.split_of("x", f"photo{i}") for i in range(2000)]
    assert 0.12 < splits.count("val") / 2000 < 0.18


def test_seed_tiff_stacks_load_as_one_channel(tmp_path):
    import tifffile
    images = np.stack([astronaut()[:256, :256]] * 3)
    masks = np.zeros((3, 256, 256), np.uint8)
    masks[:, 100:110, 100:110] = 255
    tifffile.imwrite(tmp_path / "imgs.tif", images, imagej=True)
    tifffile.imwrite(tmp_path / "masks.tif", masks, imagej=True)
    samples = list(ds.load_seed_tiff_stack(tmp_path / "imgs.tif", tmp_path / "masks.tif", "acne"))
    assert len(samples) == 3
    assert samples[0].image.shape == (256, 256, 3)
    assert samples[0].codes["acne"][105, 105] == 1 and samples[0].codes["acne"][0, 0] == 0


def test_seed_tiff_refuses_an_unknown_channel(tmp_path):
    import tifffile
    tifffile.imwrite(tmp_path / "i.tif", np.zeros((1, 8, 8, 3), np.uint8))
    tifffile.imwrite(tmp_path / "m.tif", np.zeros((1, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="Unknown channel"):
        list(ds.load_seed_tiff_stack(tmp_path / "i.tif", tmp_path / "m.tif", "pimples"))


def test_letterbox_keeps_thin_positives_and_ignores_the_bars():
    img = np.zeros((200, 400, 3), np.uint8)
    code = np.zeros((200, 400), np.uint8)
    code[100, :] = 1                                      # a one-pixel line
    out, codes = letterbox(img, {"wrinkle": code}, 100)
    assert out.shape == (100, 100, 3)
    assert (codes["wrinkle"] == 1).any()                  # survived a 4x shrink
    assert (codes["wrinkle"][:20] == ds.IGNORE).all()     # the black bar carries no label


def test_pack_round_trip(data_root, tmp_path):
    info = build_pack(data_root, tmp_path / "p.npz", 128, quality=90)
    rows = list(read_pack(tmp_path / "p.npz", workers=2))
    assert info["samples"] == len(rows) == 5
    dataset, name, split, image, codes, present = next(r for r in rows if r[0] == "celebamask_mini")
    assert image.shape == (128, 128, 3) and codes.shape == (6, 128, 128)
    assert present.tolist() == [True, True, False, False, False, False]
    assert (codes[2] == ds.IGNORE).all()                  # acne not labelled in CelebAMask


def test_lesion_matching_is_one_to_one_within_the_radius():
    truth = np.array([[10.0, 10.0], [30.0, 30.0]])
    pred = np.array([[11.0, 10.0], [12.0, 11.0], [60.0, 60.0]])
    assert match_points(pred, truth, 6.0) == 1
    assert match_points(np.empty((0, 2)), truth, 6.0) == 0


def test_blobs_are_connected_components():
    m = np.zeros((20, 20), bool)
    m[2:4, 2:4] = True
    m[10:12, 10:14] = True
    assert len(blobs(m)) == 2


def test_evaluate_writes_rows_for_each_labelled_target(data_root):
    rows = evaluate(data_root, datasets=["celebamask_mini", "acne04v2_512", "javad71_wrinkle_boxes"])
    keys = {(r["dataset"], r["target"], r["metric"]) for r in rows}
    assert ("celebamask_mini", "face_skin", "iou") in keys
    assert ("celebamask_mini", "eye", "dice") in keys
    assert ("acne04v2_512", "acne", "lesion_f1") in keys
    assert ("javad71_wrinkle_boxes", "wrinkle", "box_hit_rate") in keys
    assert not any(r["metric"] == "accuracy" for r in rows)
    for r in rows:
        assert 0.0 <= r["value"] <= 1.0 and r["n_images"] >= 1
    skin = next(r for r in rows if r["target"] == "face_skin" and r["metric"] == "iou")
    assert skin["value"] > 0.6          # the mesh outline includes lips and brows, hence not ~0.9


def test_seed_tiff_stacks_can_be_packed_for_training(tmp_path):
    import tifffile
    images = np.stack([astronaut()[:256, :256]] * 4)
    masks = np.zeros((4, 256, 256), np.uint8)
    masks[:, 50:60, 50:60] = 1
    tifffile.imwrite(tmp_path / "imgs.tif", images, imagej=True)
    tifffile.imwrite(tmp_path / "masks.tif", masks, imagej=True)
    info = build_pack(None, tmp_path / "seed.npz", 128, seed_stacks=[(tmp_path / "imgs.tif", tmp_path / "masks.tif", "wrinkle")])
    rows = list(read_pack(tmp_path / "seed.npz", workers=1))
    assert info["samples"] == len(rows) == 4
    dataset, _, _, _, codes, present = rows[0]
    assert dataset == "seed_tiff" and present.tolist() == [False, False, False, False, True, False]
    assert (codes[4] == 1).any()


def test_hard_negatives_mark_hair_and_background_as_no_lesion_only_when_asked(data_root, tmp_path):
    build_pack(data_root, tmp_path / "plain.npz", 128, datasets=["celebamask_mini"])
    build_pack(data_root, tmp_path / "hn.npz", 128, datasets=["celebamask_mini"], hard_negatives=True)
    (*_, plain, _), = read_pack(tmp_path / "plain.npz", workers=1)
    (*_, codes, present), = read_pack(tmp_path / "hn.npz", workers=1)
    assert (plain[2] == ds.IGNORE).all()
    acne, flek = codes[2], codes[3]
    assert present.tolist() == [True, True, True, True, False, False]
    assert acne[2, 64] == ds.NEG and flek[2, 64] == ds.NEG         # background above the head
    assert acne[68, 64] == ds.IGNORE                                # the nose: skin may hold lesions
    assert not (acne == ds.POS).any()


def test_evaluate_tone_rows_give_marked_area_by_ita_band(data_root):
    from skin_app.training.evaluate import tone_band_rows
    rows = tone_band_rows(data_root, None, None, 0, None)
    area = [r for r in rows if r["metric"].endswith("/mean_area_pct")]
    views = {r["metric"].split("/")[0] for r in area}
    assert views == {"letterbox", "aligned", "letterbox+norm", "aligned+norm"}
    assert {r["target"] for r in area} == {"acne", "flek", "wrinkle", "panda_eye"}
    band = area[0]["metric"].split("/")[1]
    assert band in ("very_light", "light")                          # the astronaut's skin
    assert all(r["n_images"] == 1 and 0.0 <= r["value"] <= 100.0 for r in area)


def test_evaluate_can_measure_segmentation_with_the_tone_normalisation(data_root):
    from skin_app.training.evaluate import normalised_for_model
    (s,) = ds.load_celebamask(data_root / "celebamask_mini")
    boxed = letterbox(s.image, {}, 384)[0]
    lifted = normalised_for_model(boxed, 90.0)                       # far above the astronaut's skin
    assert lifted[192, 192].sum() > boxed[192, 192].sum()            # the face is lifted
    assert np.array_equal(lifted[:8, :8], boxed[:8, :8])             # the background is not
    rows = evaluate(data_root, datasets=["celebamask_mini"], tone_reference=90.0)
    skin = next(r for r in rows if r["target"] == "face_skin" and r["metric"] == "iou")
    assert skin["value"] > 0.6
