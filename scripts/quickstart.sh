#!/usr/bin/env bash
# Set up linkis-magic with the local sandbox and open the quickstart notebook in JupyterLab.
#   bash scripts/quickstart.sh            # JupyterLab on http://127.0.0.1:8888 (token printed)
#   bash scripts/quickstart.sh --execute  # run the notebook headless and print its outputs
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[sandbox]" jupyterlab nbclient ipykernel
if [ "${1:-}" = "--execute" ]; then
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
fi
exec "$VENV/bin/jupyter" lab --ServerApp.ip=127.0.0.1 notebooks/quickstart.ipynb
