#!/usr/bin/env bash
# Set up a virtualenv with the test extras and run every check the project promises:
# lint, format, types, layer contracts, then the whole pytest suite against real servers.
# Usage: bash scripts/run-tests.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[dev,browser,spark,plot]"
export PATH="$PWD/$VENV/bin:$PATH"

echo "== ruff check";        ruff check linkis_magic tests benchmarks
echo "== ruff format";       ruff format --check linkis_magic tests benchmarks
echo "== mypy";              mypy linkis_magic
echo "== import contracts";  lint-imports
# The editable install above built labextension/ (so its node_modules are there).
echo "== labextension types"; (cd labextension && jlpm run check)
echo "== pytest"
rc=0
pytest -p no:cacheprovider "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$rc"
