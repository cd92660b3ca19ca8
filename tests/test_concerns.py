"""The vocabulary (channels, concerns, views, regions and their labels) has one definition: skin_app/concerns.py."""
import re
from pathlib import Path

from skin_app.concerns import (
    CHANNELS,
    COLOUR_CONCERNS,
    CONCERN_LABELS,
    CONCERNS,
    FULL_CHECK,
    REGION_LABELS,
    REGIONS,
    SCORED,
    VIEW_CONCERNS,
    VIEW_HELP,
    VIEW_LABELS,
    VIEW_SCORED,
    VIEWS,
)
from skin_app.scan import calibration

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("CHANNELS", "CONCERNS", "COLOUR_CONCERNS", "SCORED", "CONCERN_LABELS", "VIEWS", "VIEW_LABELS", "VIEW_HELP",
         "VIEW_CONCERNS", "VIEW_SCORED", "FULL_CHECK", "REGIONS", "REGION_LABELS")
DEFINITION = re.compile(r"^\s*(" + "|".join(NAMES) + r")\s*(:[^=]*)?=", re.M)


def test_every_concern_view_and_region_has_a_label():
    assert set(CONCERNS) <= set(CONCERN_LABELS) and "overall" in CONCERN_LABELS
    assert set(VIEWS) == set(VIEW_LABELS) == set(VIEW_HELP) == set(VIEW_CONCERNS)
    assert set(FULL_CHECK) <= set(VIEWS)
    assert set(REGIONS) <= set(REGION_LABELS)
    assert all(set(scored) <= set(CONCERNS) for scored in VIEW_CONCERNS.values())
    assert set(CONCERNS) <= set(CHANNELS)


def test_the_model_concerns_stay_the_four_channels_and_redness_is_shown_on_every_view_but_is_no_channel():
    assert CONCERNS == ("acne", "flek", "wrinkle", "panda_eye")          # the trainers' concern channels
    assert set(SCORED) == set(CONCERNS) | set(COLOUR_CONCERNS) and "redness" in SCORED
    assert not set(COLOUR_CONCERNS) & set(CHANNELS) and set(SCORED) <= set(CONCERN_LABELS)
    assert all(VIEW_SCORED[v] == (*VIEW_CONCERNS[v], "redness") for v in VIEWS)


def test_no_other_module_defines_the_vocabulary():
    sources = [*ROOT.glob("skin_app/**/*.py"), *ROOT.glob("app_pages/*.py"), *ROOT.glob("tools/*.py"),
               *ROOT.glob("bench/*.py"), ROOT / "app.py", ROOT / "serve.py"]
    offenders = [f"{path.relative_to(ROOT)}: {m.group(1)}" for path in sources if path.name != "concerns.py"
                 for m in DEFINITION.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_score_words_stay_with_the_calibration():
    assert callable(calibration.word_for) and calibration.WORD_BANDS
