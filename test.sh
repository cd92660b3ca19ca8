#!/usr/bin/env bash
# Runs ruff on the app and its tests (skin_app/, app_pages/, app.py, serve.py, bench/, tests/) and mypy on the app,
# then the whole test suite (unit, AppTest pages, and the real-browser test when Chromium is installed).
# Sets up .venv with the app and test requirements and the batch extra (Ray, for tests/test_batch.py) if
# needed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || [ requirements.txt -nt .venv/.installed ] || [ requirements-dev.txt -nt .venv/.installed-dev ] \
   || [ requirements-batch.txt -nt .venv/.installed-batch ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt -r requirements-batch.txt
  touch .venv/.installed .venv/.installed-dev .venv/.installed-batch
fi
export SM_FRAMEWORK=tf.keras TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2
# Lint and type check first (settings in pyproject.toml): a finding fails the run, as in CI.
.venv/bin/ruff check --quiet skin_app app_pages app.py serve.py bench tests
.venv/bin/mypy --no-error-summary
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest -q "$@"
fi
# The whole suite. Everything but the real-browser tests runs in parallel worker processes (pytest-xdist),
# one per core up to four (each loads TensorFlow and the model, about 1.5 GB); every test makes its own
# database, home folder and free ports. The real-browser tests follow in a pytest process of their own,
# alone on the machine: they wait on pages drawn under load (and run after the others in one process,
# the phone-mode test once met a database "disk I/O error" in its server).
workers=$(nproc 2>/dev/null || echo 2)
[ "$workers" -gt 4 ] && workers=4
.venv/bin/python -m pytest -q -n "$workers" --dist loadgroup -m "not browser"
exec .venv/bin/python -m pytest -q -m browser
