"""Browser group: the live widget in a real JupyterLab, seen through Debian's Chromium.

One JupyterLab server and one headless Chromium serve the whole session; every test gets a
fresh notebook file (so it gets its own kernel) and a fresh page. The recipe, its flags and
its pitfalls are in docs/kernel-notes.md §10.

The kernels inherit LINKIS_GATEWAY_URL / LINKIS_USER / LINKIS_PASSWORD from the server
process, so a notebook only needs `%load_ext linkis_magic` to reach the session's sandbox.

Without Chromium or Playwright the group is skipped locally, but fails under CI=true: CI
must install them, and a silently skipped browser group would hide a broken widget.
Set LINKIS_SCREENSHOTS=DIR to save the README screenshots (scripts/screenshots.sh).

Tests wait for what the page shows, never for a duration: every Playwright wait (actions and
`expect`) is bounded by UI_TIMEOUT_MS, and a check of the live widget uses a job held open
by a `gate` (a named pipe the job's SQL reads), so the job cannot end before the page has
drawn it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
import requests

from tests.support.wait import wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

    from tests.support.sandbox import SandboxProcess

CHROMIUM = Path(os.environ.get("LINKIS_CHROMIUM", "/usr/bin/chromium"))
# Flags from the recipe: no sandbox (we run as root), no GPU, no background network chatter.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS_ENV = "LINKIS_SCREENSHOTS"
# Generous: two shared cores; a kernel start alone can take several seconds under load.
UI_TIMEOUT_MS = 30_000
LAB_START_TIMEOUT_S = 60.0
_PROMPT_RAN = re.compile(r"\[(\*|\d+)\]:")
_SELECTED = re.compile(r"\bjp-mod-selected\b")


def _unavailable(reason: str) -> None:
    """Skip locally, but fail in CI, where a missing browser means a broken setup."""
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"browser test group cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(f"browser test group skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Lab:
    """A running JupyterLab server: its base URL, token, notebook dir and log file."""

    url: str
    token: str = field(repr=False)
    root: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the Jupyter REST API with the token (never put the token in messages)."""
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def page_url(self, name: str) -> str:
        # ?reset: ignore the saved workspace, so no old tab (and no second kernel) reopens.
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def delete_sessions(self, name: str) -> None:
        """Shut down the kernel of every session opened on notebook `name`."""
        for session in self.api("GET", "/api/sessions").json():
            if session.get("path") == name:
                self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def lab_env(sandbox: SandboxProcess) -> dict[str, str]:
    """Environment the lab server (and so every kernel) runs with: the session's sandbox."""
    return {
        "LINKIS_GATEWAY_URL": sandbox.url,
        "LINKIS_USER": "alice",
        "LINKIS_PASSWORD": sandbox.users["alice"],
    }


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[Lab]:
    """A JupyterLab server on 127.0.0.1 with a token and Jupyter dirs of its own."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _unavailable("jupyterlab is not installed (pip install -e '.[browser]')")
    home = tmp_path_factory.mktemp("jupyter")
    root = tmp_path_factory.mktemp("notebooks")
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTERLAB_SETTINGS_DIR": home / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for path in dirs.values():
        path.mkdir()
    # The "official Jupyter news?" toast would cover the notebook in screenshots.
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Lab drops a completion provider's answer after providerTimeout (1 s by default): a
    # kernel on busy cores can take longer, and a Tab would then show nothing at all.
    completer = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "completer-extension"
    completer.mkdir(parents=True)
    (completer / "manager.jupyterlab-settings").write_text(
        json.dumps({"providerTimeout": UI_TIMEOUT_MS})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKIS_", "JUPYTER"))}
    env.update({k: str(v) for k, v in dirs.items()})
    env.update(lab_env)
    env["PYTHONUNBUFFERED"] = "1"
    token = secrets.token_hex(16)
    port = _free_port()
    log = home / "lab.log"
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI containers run as root; Lab refuses otherwise
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    server = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log, proc=proc)
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{server.log_tail()}")
            try:
                return server.api("GET", "/api/status").status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(
            ready,
            timeout=LAB_START_TIMEOUT_S,
            interval=0.2,
            what=lambda: f"JupyterLab to answer:\n{server.log_tail()}",
        )
        yield server
    finally:
        proc.terminate()  # the server shuts its kernels down itself
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the session (never `playwright install`)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install playwright)")
    from playwright.sync_api import expect as playwright_expect

    # `expect` waits 5 s by default: too short for a page on two loaded cores
    playwright_expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Notebook:
    """One notebook open in a Lab page, with the few actions the tests need."""

    lab: Lab
    page: Page
    name: str
    shots: Path | None

    @property
    def path(self) -> Path:
        return self.lab.root / self.name

    def cell(self, index: int) -> Locator:
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)

    def output(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-Cell-outputArea")

    def open(self, *, wait_kernel: bool = True) -> None:
        """Load the notebook page and (unless told not to) wait until its kernel is Idle."""
        from playwright.sync_api import expect

        self.page.goto(self.lab.page_url(self.name))
        if wait_kernel:
            self.wait_idle()
        expect(self.cell(0)).to_be_visible()

    def wait_idle(self, timeout_ms: int = UI_TIMEOUT_MS) -> None:
        # The notebook's execution indicator says "idle" while the kernel is still starting;
        # the status bar item says "... | Idle" only once it really is.
        from playwright.sync_api import expect

        status = self.page.get_by_title(f"Change kernel for {self.name}")
        expect(status).to_contain_text("| Idle", timeout=timeout_ms)

    def kernel_status(self) -> str:
        return self.page.get_by_title(f"Change kernel for {self.name}").inner_text()

    def run_cell(self, index: int) -> None:
        """Select cell `index` by its prompt and press the toolbar's run button.

        A click can be lost right after the page loads (docs/kernel-notes.md §10), so a run
        whose prompt has not changed after a few seconds is clicked again, but only if the
        cell is still selected: "run and select next" moves the selection on at once, so a
        click that reached Lab is never repeated (that would run the cell twice).
        """
        from playwright.sync_api import expect

        cell = self.cell(index)
        prompt = cell.locator(".jp-InputPrompt")
        run = self.page.locator(
            '.jp-NotebookPanel-toolbar jp-button[data-command="notebook:run-cell-and-select-next"]'
        )
        for attempt in range(3):
            prompt.click()
            expect(cell).to_have_class(_SELECTED)
            run.click()
            try:
                expect(prompt).to_have_text(_PROMPT_RAN, timeout=5_000)
                return
            except AssertionError:
                still_selected = _SELECTED.search(cell.get_attribute("class") or "")
                if attempt == 2 or not still_selected:
                    break
        expect(prompt).to_have_text(_PROMPT_RAN)

    def wait_done(self, index: int, timeout_ms: int = UI_TIMEOUT_MS) -> None:
        """Wait until cell `index` has finished (its prompt shows a number, not `*`)."""
        from playwright.sync_api import expect

        prompt = self.cell(index).locator(".jp-InputPrompt")
        expect(prompt).to_have_text(re.compile(r"\[\d+\]:"), timeout=timeout_ms)

    def save(self) -> None:
        """Save through Lab (so outputs are written as the frontend holds them).

        Returns once the server has answered Lab's PUT: it writes the file in place before
        it answers, so a changed mtime alone may show a file still being written.
        """

        def is_save(response: Any) -> bool:
            request = response.request
            return request.method == "PUT" and request.url.split("?")[0].endswith(
                f"/api/contents/{self.name}"
            )

        with self.page.expect_response(is_save) as saved:
            self.page.locator(
                '.jp-NotebookPanel-toolbar jp-button[data-command="docmanager:save"]'
            ).click()
        assert saved.value.ok, f"saving {self.name}: HTTP {saved.value.status}"

    def no_widget_errors(self) -> None:
        """The widget manager rendered every widget (no error box, no raw repr)."""
        assert self.page.get_by_text("Error displaying widget").count() == 0
        assert self.page.locator(".jp-OutputArea-output pre", has_text="VBox(").count() == 0

    def screenshot(self, name: str, *targets: Locator, margin: int = 8) -> None:
        """Save `name`.png into LINKIS_SCREENSHOTS (when set): the README's pictures.

        With targets, the picture is the smallest box around all of them (a cell and the
        completer popup hanging below it), plus `margin` pixels; else the whole page.
        """
        if self.shots is None:
            return
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        if not targets:
            self.page.mouse.move(0, 0)  # no hover highlight where the last click was (Kill)
            self.page.screenshot(path=path)
            return
        if len(targets) == 1:
            self.page.mouse.move(0, 0)
            targets[0].screenshot(path=path)
            return
        boxes = [box for box in (t.bounding_box() for t in targets) if box is not None]
        left = min(b["x"] for b in boxes) - margin
        top = min(b["y"] for b in boxes) - margin
        right = max(b["x"] + b["width"] for b in boxes) + margin
        bottom = max(b["y"] + b["height"] for b in boxes) + margin
        clip = {"x": max(left, 0), "y": max(top, 0), "width": right - left, "height": bottom - top}
        self.page.screenshot(path=path, clip=clip)  # type: ignore[arg-type]


@dataclass
class NotebookFactory:
    """Writes fresh notebooks into the lab root and opens each in its own page."""

    lab: Lab
    browser: Browser
    prefix: str
    opened: list[Notebook] = field(default_factory=list)

    def __call__(self, cells: Sequence[str], *, suffix: str = "") -> Notebook:
        return self.reopen(self.write(cells, suffix=suffix))

    def write(self, cells: Sequence[str], *, suffix: str = "") -> str:
        """Write a notebook of code ``cells`` into the lab root; its file name."""
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        name = f"{self.prefix}{suffix}.ipynb"
        nbformat.write(nb, self.lab.root / name)
        return name

    def reopen(self, name: str, *, wait_kernel: bool = True) -> Notebook:
        """Open notebook `name` (already in the lab root) in a new page.

        `wait_kernel=False` suits checks of saved outputs, which need no kernel.
        """
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        shots = os.environ.get(SCREENSHOTS_ENV)
        notebook = Notebook(self.lab, page, name, Path(shots).resolve() if shots else None)
        self.opened.append(notebook)
        notebook.open(wait_kernel=wait_kernel)
        return notebook

    def close_all(self) -> None:
        for notebook in self.opened:
            if not notebook.page.is_closed():
                notebook.page.context.close()
            self.lab.delete_sessions(notebook.name)
        for name in {nb.name for nb in self.opened}:
            (self.lab.root / name).unlink(missing_ok=True)


@pytest.fixture
def notebook(
    browser: Browser, lab: Lab, request: pytest.FixtureRequest
) -> Iterator[NotebookFactory]:
    """`notebook([cell sources])` -> an open Notebook; pages and kernels go away afterwards."""
    prefix = re.sub(r"\W+", "-", request.node.name).strip("-")
    factory = NotebookFactory(lab, browser, prefix)
    yield factory
    factory.close_all()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, screenshot every page the test opened into test-artifacts/."""
    report = yield
    factory = getattr(item, "funcargs", {}).get("notebook")
    if report.failed and isinstance(factory, NotebookFactory):
        ARTIFACTS.mkdir(exist_ok=True)
        for i, nb in enumerate(factory.opened):
            if nb.page.is_closed():
                continue
            target = ARTIFACTS / f"{factory.prefix}-{report.when}-{i}.png"
            try:
                nb.page.screenshot(path=target, full_page=True)
            except Exception as exc:  # a dead page must not hide the real failure
                report.sections.append(("screenshot", f"could not save {target}: {exc}"))
            else:
                report.sections.append(("screenshot", str(target)))
    return report


@dataclass
class Gate:
    """A named pipe that holds a sandbox SQL job Running until the test releases it.

    The gate is a view in the sandbox's database (``name``, one row, over
    ``read_text('<path>')``), so a cell only names it (``from range(1000) t(x), <name> g``)
    and the README's pictures show no pipe. A job reading the view opens the pipe when its
    statement runs, and opening a pipe for reading blocks until a writer opens it: the job
    reports its statement running (a stage row) and stays Running, however fast the
    machine, until ``release`` opens the pipe, writes one line and closes it. DuckDB waits
    in that open outside the GIL, so the sandbox goes on answering; a held job cannot be
    killed, though (the interrupt is only seen once the read returns): kill tests use a
    long query instead.
    """

    path: Path
    name: str
    released: bool = False

    @property
    def create_sql(self) -> str:
        """The view over the pipe. It reads the pipe's content: a read_text() whose content
        is not used never opens the file. Creating it does not open the pipe either."""
        return (
            f"create view {self.name} as "
            f"select content from read_text('{self.path}') where content <> ''"
        )

    def _open_writer(self) -> int | None:
        """A write end if the job is blocked reading the pipe (else None: nobody reads yet)."""
        try:
            return os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return None
            raise

    def release(self) -> None:
        """Wait until the job reads the pipe, then let its statement finish."""
        fd = wait_until(
            self._open_writer,
            timeout=UI_TIMEOUT_MS / 1000,
            interval=0.05,
            what=f"the job to open {self.path.name}",
        )
        try:
            os.write(fd, b"go\n")
        finally:
            os.close(fd)
        self.released = True

    def close(self) -> None:
        """After the test: free a job still blocked on the pipe; a job not there yet finds
        no pipe and fails, rather than holding a sandbox worker for ever."""
        if not self.released:
            fd = self._open_writer()
            if fd is not None:
                os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@pytest.fixture
def gate(tmp_path: Path, sandbox: SandboxProcess) -> Iterator[Gate]:
    """A fresh `Gate` (its pipe in this test's tmp_path, its view in the session's sandbox),
    released or removed afterwards, and its view dropped."""
    from linkis_magic.client import LinkisClient

    path = tmp_path / "gate.pipe"
    os.mkfifo(path, 0o600)
    held = Gate(path, f"gate_{secrets.token_hex(4)}")

    def run(sql: str) -> None:
        with LinkisClient(sandbox.url, user="alice", password=sandbox.users["alice"]) as c:
            status = c.submit(sql, engine_type="spark-3.2.1").wait(timeout=UI_TIMEOUT_MS / 1000)
            assert status.value == "Succeed", (sql, status)

    run(held.create_sql)
    try:
        yield held
    finally:
        held.close()
        run(f"drop view if exists {held.name}")


def expect(target: Any) -> Any:
    """Playwright's `expect`, imported late so collection works without Playwright."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def poll_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait for a condition the page cannot express as a selector (e.g. a file on disk)."""
    wait_until(check, timeout=timeout_s, interval=0.1, what=what)
