#!/usr/bin/env bash
# Sets up SkinGorithm on first use (a virtual environment in .venv) and starts the app at
# http://localhost:8501. Everything runs on this computer; nothing is downloaded at run time.
#   bash run.sh                    the app on this computer only
#   bash run.sh --phone            also open it to phones on this Wi-Fi (access code shown as a QR code)
#   bash run.sh --server.port 8600 another port (any other streamlit option works the same way)
#   PYTHON=python3.12 bash run.sh  set up with another Python (3.10-3.12)
# Stop it with Ctrl+C in this terminal.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
ARGS=()
for arg in "$@"; do
  if [ "$arg" = "--phone" ]; then export SKINGORITHM_PHONE=1; else ARGS+=("$arg"); fi
done
if [ ! -x .venv/bin/python ] || [ requirements.txt -nt .venv/.installed ]; then
  echo "Setting up (first run only; a few minutes)..."
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  touch .venv/.installed
fi
export SM_FRAMEWORK=tf.keras TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2
# TensorFlow and mediapipe print CUDA and start-up lines at import ("Unable to register cuDNN factory",
# "Could not find cuda drivers", ...) that no setting silences and that mean nothing on a computer
# without an NVIDIA GPU: there they are filtered out of the terminal (the patterns: skin_app/config.py,
# NATIVE_NOISE, which the command line uses too). Real errors still show.
NOISE=$(.venv/bin/python -c 'from skin_app.config import NATIVE_NOISE; print(NATIVE_NOISE)')
if command -v nvidia-smi >/dev/null 2>&1; then
  exec .venv/bin/python -m streamlit run serve.py ${ARGS[@]+"${ARGS[@]}"}
fi
export CUDA_VISIBLE_DEVICES=""
exec .venv/bin/python -m streamlit run serve.py ${ARGS[@]+"${ARGS[@]}"} 2> >(grep --line-buffered -v -E "$NOISE" >&2)
