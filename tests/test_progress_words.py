"""What the noise band says it is (issue 25): simulated re-shots, not re-taken photos."""
from __future__ import annotations

from skin_app.history import progress


def test_the_shipped_noise_band_says_it_was_simulated():
    band = progress.load_noise_band()
    assert band.measured and "simulated re-shots" in band.source
    assert "re-taken" not in band.source
