#!/usr/bin/env bash
# Measures new weights the way the shipped ones were measured, into a candidate folder, then judges
# them against the shipped model (skin_app/training/gate.py). Nothing in models/ changes.
#   bash skin_app/training/candidate.sh WEIGHTS.npz CANDIDATE_DIR DATA_DIR [THRESHOLDS.json]
# THRESHOLDS.json: use these thresholds instead of tuning them, e.g. to measure the shipped model with its
# shipped thresholds by today's code (the gate's reference). calibrate's cache (runs/calibration/) is named by
# the weights only; it refuses to reuse measurements made with other thresholds: move that file aside.
# e.g. bash skin_app/training/candidate.sh runs/k1/weights.npz runs/cand ../shared/data
# Order: thresholds (training split) -> score curves (training split; the validation report beside)
# -> tone probe -> re-shot noise band -> segmentation metrics (validation) -> the gate.
# Quiet 2-core machine: about 40 minutes (calibrate measures about 1,400 photos mirror-averaged).
# To ship a candidate that passes: copy its skin_unet_resnet34.npz, thresholds.json, calibration.json,
# noise_band.json and metrics_val.json into models/, and its tone_probe.json to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
WEIGHTS=$1 OUT=$2 DATA=$3 THRESHOLDS=${4:-}
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"
cp "$WEIGHTS" "$OUT/skin_unet_resnet34.npz"
export SKINGORITHM_MODEL="$OUT/skin_unet_resnet34.npz" SM_FRAMEWORK=tf.keras TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2
step() { echo "== $(date +%T) $*" >&2; }
if [ -n "$THRESHOLDS" ]; then
  cp "$THRESHOLDS" "$OUT/thresholds.json"
else
  step thresholds;  "$PY" -m skin_app.training.tune_thresholds --data "$DATA" --out "$OUT/thresholds.json" --limit 250
fi
step calibrate;   "$PY" -m skin_app.training.calibrate --data "$DATA" --model "$SKINGORITHM_MODEL" \
                    --out "$OUT/calibration.json" --report "$OUT/calibrate_report.json" > /dev/null
step tone_probe;  "$PY" bench/tone_probe.py --data "$DATA" --model "$SKINGORITHM_MODEL" --out "$OUT/tone_probe.json"
step noise_band;  "$PY" bench/noise_band.py --data "$DATA" --faces 40 --variants 6 --out "$OUT/noise_band.json" \
                    --detail "$OUT/noise_band_detail.json"
step evaluate;    "$PY" -m skin_app.training.evaluate --data "$DATA" --split val --model "$SKINGORITHM_MODEL" \
                    --out "$OUT/metrics_val.json"
step gate;        "$PY" -m skin_app.training.gate --candidate "$OUT"
