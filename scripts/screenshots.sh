#!/usr/bin/env bash
# Refresh the README's pictures (docs/screenshots/*.png) from the real thing: runs the
# browser test group (JupyterLab + Debian Chromium + the sandbox) with LINKIS_SCREENSHOTS
# set, so each scenario saves its mid-run / finished views while it checks them.
# Needs the browser extra (pip install -e '.[browser]') and /usr/bin/chromium.
# Usage: bash scripts/screenshots.sh [extra pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
OUT=${LINKIS_SCREENSHOTS:-docs/screenshots}
mkdir -p "$OUT"
LINKIS_SCREENSHOTS="$OUT" "$VENV/bin/pytest" -p no:cacheprovider -q -m browser tests/browser "$@"
rc=$?
ls -l "$OUT"/*.png
if [ "$rc" -ne 0 ]; then
  echo "browser tests failed (exit $rc): pictures of failed scenarios may be missing or stale" >&2
fi
exit "$rc"
