#!/usr/bin/env bash
# Sets up SkinGorithm on first use (a virtual environment in .venv) and starts the app at
# http://localhost:8501. Everything runs on this computer; nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || [ requirements.txt -nt .venv/.installed ]; then
  echo "Setting up (first run only; a few minutes)..."
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  touch .venv/.installed
fi
export SM_FRAMEWORK=tf.keras TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m streamlit run app.py "$@"
