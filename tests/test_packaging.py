"""The wheel carries the prebuilt JupyterLab extension, and JupyterLab finds it once installed.

`python -m build --wheel` runs the real build (hatchling + hatch-jupyter-builder, isolated);
the labextension is reused when labextension/prebuilt/ is there already (the editable install
of the test setup built it), so this costs the packaging, not a second Node.js build. The
wheel then goes into a fresh virtualenv that sees this environment's packages (JupyterLab)
through a .pth file, so nothing is downloaded again, and `jupyter labextension list`, run
there with Jupyter directories of its own, must list the extension from that virtualenv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTENSION = "share/jupyter/labextensions/linkis-magic"

pytestmark = pytest.mark.slow


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="the dev extra brings `build`")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)])
    (built,) = out.glob("linkis_magic-*.whl")
    return built


def test_the_wheel_contains_the_prebuilt_extension(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        data = [n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n]
        manifest = zf.read(next(n for n in names if n.endswith(f"{EXTENSION}/package.json")))
    assert f"{EXTENSION}/package.json" in data
    assert f"{EXTENSION}/install.json" in data
    assert f"{EXTENSION}/schemas/linkis-magic/plugin.json" in data
    assert any(re.fullmatch(rf"{EXTENSION}/static/remoteEntry\.\w+\.js", n) for n in data)
    assert b'"name": "linkis-magic"' in manifest
    # The build tree stays out of the package itself.
    assert not any("node_modules" in n or n.startswith("labextension/") for n in names)


def test_jupyterlab_lists_the_extension_after_installing_the_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    pytest.importorskip("jupyterlab", reason="the browser extra brings JupyterLab")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    # This environment's packages (JupyterLab and its dependencies) without reinstalling them.
    Path(site, "_shared_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run([*pip, "install", "--no-deps", "--no-index", "-q", str(wheel)])
    home = tmp_path / "jupyter"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    listing = _run([str(python), "-m", "jupyterlab.labextensions", "list"], env=env)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    section = text.split(str(env_dir / "share" / "jupyter" / "labextensions"), 1)
    assert len(section) == 2, f"no extensions listed from the new virtualenv:\n{text}"
    assert re.search(r"linkis-magic v\S+ enabled\s+OK \(python, linkis-magic\)", section[1]), text
