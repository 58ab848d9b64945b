#!/usr/bin/env bash
# Set up linkis-magic with the local sandbox and open the quickstart notebook in JupyterLab.
#   bash scripts/quickstart.sh                 # JupyterLab on http://127.0.0.1:8888 (token printed)
#   bash scripts/quickstart.sh --no-browser --ServerApp.port=9999
#                                              # arguments after the script's own options go to
#                                              # `jupyter lab` unchanged (a headless server)
#   bash scripts/quickstart.sh --execute       # run the notebook headless and print its outputs
#   bash scripts/quickstart.sh --check-install # resolve the pip install (--dry-run), then exit
# As root (a container), --allow-root is passed to JupyterLab, which refuses to start otherwise.
# Re-running reuses the virtualenv. Environment: VENV (default .venv), PYTHON (the interpreter
# that creates it, default python3), QUICKSTART_SKIP_INSTALL=1 (use VENV as it is, no pip).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}

usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; }

mode=lab
while [ "$#" -gt 0 ]; do
  case "$1" in
    --execute) mode=execute; shift ;;
    --check-install) mode=check; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;  # the first argument the script does not know, and all after it: JupyterLab's
  esac
done
if [ "$mode" != lab ] && [ "$#" -gt 0 ]; then
  echo "quickstart.sh: extra arguments ($*) only apply when starting JupyterLab" >&2
  exit 2
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
pip_install=("$VENV/bin/python" -m pip install --quiet)
if [ "$mode" = check ]; then
  pip_install+=(--dry-run)  # resolve and build metadata, change nothing (not PIP_DRY_RUN:
fi                          # pip's build-isolation subprocess would inherit it)
if [ "$mode" = check ] || [ "${QUICKSTART_SKIP_INSTALL:-0}" != 1 ]; then
  "${pip_install[@]}" --upgrade pip
  "${pip_install[@]}" -e ".[sandbox,plot]" jupyterlab nbclient ipykernel
fi

case "$mode" in
  check) exit 0 ;;
  execute)
    exec "$VENV/bin/python" - <<'PYEOF'
import nbformat
from nbclient import NotebookClient

nb = nbformat.read("notebooks/quickstart.ipynb", as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": "notebooks"}}).execute()
for cell in nb.cells:
    if cell.cell_type != "code":
        continue
    print(">>>", cell.source.splitlines()[0] if cell.source else "")
    for out in cell.get("outputs", []):
        text = out.get("text") or out.get("data", {}).get("text/plain") or out.get("evalue", "")
        print("   ", str(text).strip()[:400].replace("\n", "\n    "))
PYEOF
    ;;
esac

lab_args=(--ServerApp.ip=127.0.0.1)
if [ "$(id -u)" -eq 0 ]; then
  lab_args+=(--allow-root)  # "Running as root is not recommended": containers often run as root
fi
# The user's arguments come after the defaults, so theirs win (e.g. --ServerApp.ip=0.0.0.0).
exec "$VENV/bin/jupyter" lab "${lab_args[@]}" "$@" notebooks/quickstart.ipynb
