"""The face geometry holds still between shots: the mesh averaged with its mirror image, the crop framed
from many landmarks (issue 18; ``bench/reshot_anatomy.py`` measures it on validation photos)."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from skin_app.scan import face as face_mod
from skin_app.scan.face import FACE_OVAL, LEFT_EYE, LEFT_IRIS, MESH_MIRROR, RIGHT_EYE, RIGHT_IRIS, crop_frame


@functools.cache
def _astronaut() -> np.ndarray:
    from skimage import data
    return data.astronaut()


@functools.cache
def _astronaut_points() -> np.ndarray:
    return face_mod.find_faces(_astronaut())[0].points.copy()


def test_mesh_mirror_pairs_each_point_with_its_mirror_twin():
    mirror = np.array(MESH_MIRROR)
    assert sorted(mirror.tolist()) == list(range(478))          # one-to-one
    assert np.array_equal(mirror[mirror], np.arange(478))       # its own inverse
    assert int((mirror == np.arange(478)).sum()) == 28          # the midline of the canonical model
    assert {MESH_MIRROR[i] for i in RIGHT_EYE} == set(LEFT_EYE)
    assert {MESH_MIRROR[i] for i in FACE_OVAL} == set(FACE_OVAL)
    assert MESH_MIRROR[RIGHT_IRIS] == LEFT_IRIS
    assert MESH_MIRROR[10] == 10 and MESH_MIRROR[152] == 152    # forehead top and chin stay


def test_the_mesh_of_the_mirror_image_flipped_back_matches_the_photos_mesh():
    """Averaging each run with the mirror run makes the mesh mirror-consistent (without it the two
    disagree by about 1 px on average on this photo)."""
    rgb = _astronaut()
    here = face_mod.find_faces(rgb)[0].points
    there = face_mod.find_faces(np.ascontiguousarray(rgb[:, ::-1]))[0].points[list(MESH_MIRROR)]
    there[:, 0] = rgb.shape[1] - there[:, 0]
    assert float(np.linalg.norm(here[:, :2] - there[:, :2], axis=1).mean()) < 0.5


def test_without_a_mirror_face_the_mesh_is_the_photos_own():
    class NoFace:
        multi_face_landmarks = None
    points = np.random.default_rng(0).random((478, 3)).astype(np.float32)
    assert np.array_equal(face_mod._mirror_averaged(points, NoFace()), points)


def test_one_outline_point_that_jitters_barely_moves_the_crop():
    points = _astronaut_points()
    angle, centre, width = crop_frame(points)
    moved = points.copy()
    rightmost = FACE_OVAL[int(np.argmax(points[FACE_OVAL, 0]))]
    moved[rightmost, 0] += 3.0          # the outline's extreme point, 3 px further out
    angle2, centre2, width2 = crop_frame(moved)
    assert float(np.linalg.norm(centre2 - centre)) < 0.2      # the extremes' centre would move 1.5 px
    assert abs(width2 / width - 1) < 0.005                     # and their width 3 px (~1.5 %)
    assert abs(angle2 - angle) < 1e-6


@pytest.mark.parametrize("turn, scale, shift", [(10.0, 1.0, (0, 0)), (-7.0, 1.3, (25, -40))])
def test_the_crop_frame_turns_scales_and_moves_with_the_face(turn, scale, shift):
    points = _astronaut_points()
    angle, centre, width = crop_frame(points)
    r = math.radians(turn)
    rot = scale * np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    moved = points.copy()
    moved[:, :2] = points[:, :2] @ rot.T + np.array(shift)
    angle2, centre2, width2 = crop_frame(moved)
    assert angle2 == pytest.approx(angle + turn, abs=1e-3)
    assert np.allclose(centre2, rot @ centre + np.array(shift), atol=1e-3)
    assert width2 == pytest.approx(width * scale, rel=1e-4)


def test_the_crop_frame_keeps_the_framing_of_the_outlines_extent():
    """The RMS factors were set so the crop frames a face as the outline's extremes did: within 5 %."""
    points = _astronaut_points()
    angle, centre, width = crop_frame(points)
    r = math.radians(angle)
    along = points[FACE_OVAL, :2] @ np.array([math.cos(r), math.sin(r)])
    across = points[FACE_OVAL, :2] @ np.array([-math.sin(r), math.cos(r)])
    extent = max(float(np.ptp(along)), float(np.ptp(across)) * 0.85)
    assert width == pytest.approx(extent, rel=0.05)
    x0, y0, x1, y1 = face_mod.FaceLandmarks(points).bbox
    assert np.allclose(centre, [(x0 + x1) / 2, (y0 + y1) / 2], atol=0.05 * width)
