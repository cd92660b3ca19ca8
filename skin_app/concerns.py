"""The app's vocabulary, in one place: model channels, scored concerns, views, face regions and the
words a person reads for each.

Every module and page imports these names from here (``tests/test_concerns.py`` checks that no other
module defines them). The score bands and their words ("good", "fair", "needs care") are fitted
numbers, so they live with the calibration: ``calibration.WORD_BANDS`` and ``calibration.word_for``.
"""
from __future__ import annotations

# Output channels of the one segmentation model, in order.
CHANNELS: tuple[str, ...] = ("face_skin", "eye", "acne", "flek", "wrinkle", "panda_eye")
# The four concerns the model scores (each is a model channel), in display order ("overall" is their mean).
CONCERNS: tuple[str, ...] = ("acne", "flek", "wrinkle", "panda_eye")
# Concerns measured from the photo's colour, not by the model (no channel; ``redness.py``). They are
# shown beside the four but stay out of Overall, so Overall means the same for scans stored before them.
COLOUR_CONCERNS: tuple[str, ...] = ("redness",)
# Every concern with a display score, in display order.
SCORED: tuple[str, ...] = CONCERNS + COLOUR_CONCERNS
CONCERN_LABELS: dict[str, str] = {
    "acne": "Acne",
    "flek": "Dark spots",
    "wrinkle": "Wrinkles",
    "panda_eye": "Dark circles",
    "redness": "Redness",
    "overall": "Overall",
}
# Views a scan can be taken from. Each view keeps its own history line (never mixed in one chart):
# a side view scores only the cheek that faces the camera, a close-up only what a patch of skin shows.
VIEWS: tuple[str, ...] = ("front", "left", "right", "closeup")
VIEW_LABELS: dict[str, str] = {
    "front": "Front",
    "left": "Left side",
    "right": "Right side",
    "closeup": "Close-up",
}
VIEW_HELP: dict[str, str] = {
    "front": "Your whole face, looking straight at the camera.",
    "left": "Head turned about 40 degrees to your right, so your left cheek faces the camera.",
    "right": "Head turned about 40 degrees to your left, so your right cheek faces the camera.",
    "closeup": "A patch of skin filling the frame (a cheek, the chin, the forehead); no whole face needed.",
}
# The model's concerns each view can score (a side view cannot see both eyes; a close-up has no face
# regions); a view's Overall is their mean.
VIEW_CONCERNS: dict[str, tuple[str, ...]] = {
    "front": CONCERNS,
    "left": ("acne", "flek", "wrinkle"),
    "right": ("acne", "flek", "wrinkle"),
    "closeup": ("acne", "flek"),
}
# Everything each view shows: its model concerns and the colour concerns (skin colour is read on any view).
VIEW_SCORED: dict[str, tuple[str, ...]] = {view: (*kept, *COLOUR_CONCERNS) for view, kept in VIEW_CONCERNS.items()}
# A "full check" is one visit made of these views, as clinical systems photograph a face.
FULL_CHECK: tuple[str, ...] = ("front", "left", "right")
# Named landmark regions of the face crop.
REGIONS: tuple[str, ...] = ("forehead", "left_cheek", "right_cheek", "nose", "chin",
                            "left_under_eye", "right_under_eye", "eyes")
# Plain names of the regions, plus the two face halves a side view's per-region scores use.
REGION_LABELS: dict[str, str] = {
    "forehead": "Forehead", "left_cheek": "Left cheek", "right_cheek": "Right cheek", "nose": "Nose",
    "chin": "Chin", "left_under_eye": "Left under-eye", "right_under_eye": "Right under-eye",
    "eyes": "Eyes", "left_half": "Left side of the face", "right_half": "Right side of the face",
}

# Acne severity grades, mildest first: the ACNE04 grades, which follow the Hayashi criteria (lesions on
# half the face: 0-5 mild, 6-20 moderate, 21-50 severe, more very severe). The acne score's 70 / 50 / 30
# are the boundaries between them.
ACNE_GRADES: tuple[str, ...] = ("mild", "moderate", "severe", "very severe")
