"""Pictures of the masks over the face crop (numpy in, numpy out; pages only display them)."""
from __future__ import annotations

import cv2
import numpy as np

CONCERN_COLOURS: dict[str, tuple[int, int, int]] = {
    "acne": (230, 57, 70),        # red
    "flek": (255, 183, 3),        # amber
    "wrinkle": (58, 134, 255),    # blue
    "panda_eye": (131, 56, 236),  # violet
    "redness": (56, 176, 0),      # green: shows on the red areas it marks
    "face_skin": (46, 196, 182),  # teal
    "eye": (255, 255, 255),
}


def overlay_masks(crop: np.ndarray, masks: dict[str, np.ndarray], concerns, alpha: float = 0.45,
                  outline: bool = True) -> np.ndarray:
    """Tints each chosen concern's pixels in its colour and draws a thin outline so small lesions show."""
    out = crop.astype(np.float32).copy()
    for concern in concerns:
        m = masks.get(concern)
        if m is None or not m.any():
            continue
        colour = np.array(CONCERN_COLOURS[concern], np.float32)
        out[m] = out[m] * (1 - alpha) + colour * alpha
    out = out.clip(0, 255).astype(np.uint8)
    if outline:
        for concern in concerns:
            m = masks.get(concern)
            if m is None or not m.any():
                continue
            contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, CONCERN_COLOURS[concern], 1)
    return out


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 8) -> np.ndarray:
    h = max(left.shape[0], right.shape[0])
    canvas = np.full((h, left.shape[1] + gap + right.shape[1], 3), 255, np.uint8)
    canvas[:left.shape[0], :left.shape[1]] = left
    canvas[:right.shape[0], left.shape[1] + gap:] = right
    return canvas
