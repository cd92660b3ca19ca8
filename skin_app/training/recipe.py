"""The training recipe's numbers, shared by the PyTorch trainer (``train.py``, GPU) and the tf.keras
trainer (``train_keras.py``, CPU), and by ``bench/noise_band.py``'s re-shots: one place for each, and
no framework import, so either trainer (and the bench) can read them without the other's framework.
"""
from __future__ import annotations

import numpy as np

# Per channel (concerns.CHANNELS order: face_skin, eye, acne, flek, wrinkle, panda_eye).
POS_WEIGHT = (1.0, 2.0, 4.0, 4.0, 4.0, 2.0)          # BCE weight of a positive pixel
CHANNEL_WEIGHT = (1.0, 1.0, 1.5, 1.0, 1.5, 1.0)      # each channel's share of the loss
WEAK_FRACTION = (0.0, 0.0, 0.0, 0.0, 0.12, 0.35)     # top share of a box's pixels that should be positive
MIL_WEIGHT = 0.5

# Batches mix the datasets with fixed shares, so small sets are seen often.
DATASET_SHARE = {
    "celebamask_mini": 0.17, "fasseg_frontal02": 0.03, "helen_68lm": 0.08, "acne04v2_512": 0.25,
    "gjain_wrinkle_darkcircle": 0.14, "gjain_freckle_acne": 0.11, "javad71_wrinkle_boxes": 0.15,
    "darkcircle_boxes": 0.04, "seed_tiff": 0.10,
}
OTHER_DATASET_SHARE = 0.05

# Simulated re-shots of the same face (the noise bench and both trainers' re-shot consistency):
# exposure x(1 -+ EXPOSURE), white balance R x(1+t) B x(1-t) with |t| <= WHITE_BALANCE.
RESHOT_EXPOSURE = 0.15
RESHOT_WHITE_BALANCE = 0.10


def sampling_weights(datasets: list[str], shares: dict[str, float] | None = None) -> np.ndarray:
    """Per-sample probabilities that give each dataset its share of a batch: ``DATASET_SHARE``, with
    ``shares`` (e.g. a run's ``--dataset-share``) replacing the named datasets' entries."""
    table = {**DATASET_SHARE, **(shares or {})}
    counts: dict[str, int] = {}
    for d in datasets:
        counts[d] = counts.get(d, 0) + 1
    share_total = sum(table.get(d, OTHER_DATASET_SHARE) for d in counts)
    w = np.array([table.get(d, OTHER_DATASET_SHARE) / share_total / counts[d] for d in datasets])
    return w / w.sum()
