"""A whole session with a password and with a token leaks neither anywhere a user can see."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.utils.capture import capture_output
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from linkis_magic.client import LinkisClient
from linkis_magic.errors import LinkisError
from linkis_magic.magics import LinkisMagics
from tests.support.proxy import Fault, FaultProxy
from tests.support.sandbox import SandboxProcess, start_sandbox

PASSWORD = "Pw-7f3a9c-s3cr3t"
TOKEN = "TOK-91b2e4-s3cr3t"
SECRETS = (PASSWORD, TOKEN)
SQL = "spark-3.2.1"


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox knowing carol's password and a token only this module uses."""
    sandbox = start_sandbox(
        tmp_path_factory.mktemp("secrets"), "--user", f"carol:{PASSWORD}", "--token", TOKEN
    )
    yield sandbox
    sandbox.stop()


def hits(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def every_text_of(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), *getattr(exc, "__notes__", [])]
    for name in ("message", "body_excerpt", "err_desc", "data", "stack"):
        parts.append(repr(getattr(exc, name, "")))
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        parts.append(every_text_of(cause))
    return "\n".join(parts)


CELLS = [
    "%%linkis sql -o ok_df\nselect 1 as x",
    "%%linkis sql\nselect * from table_that_does_not_exist",
    "%%linkis python\nprint('hello')",
    "%linkis status",
    "%linkis log",
    "%linkis history -n 3",
    "%linkis config",
    "%%linkis sql --background -o bg_df\nselect 2 as y",
    "%linkis kill",
    "print(repr(get_ipython().find_magic('linkis', 'line').__self__.session.runs[-1].job))",
]


class TestNothingLeaks:
    """Outputs, logs, reprs and exception texts of a whole session never hold a secret."""

    @pytest.mark.parametrize("auth", ["password", "token"])
    @pytest.mark.usefixtures("clean_magics")
    def test_magic_session(
        self, shell: Any, box: SandboxProcess, auth: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with FaultProxy(box.url) as proxy:
            shell.run_line_magic("config", f"LinkisMagics.gateway_url = {proxy.url!r}")
            shell.run_line_magic("config", "LinkisMagics.user = 'carol'")
            os.environ["LINKIS_PASSWORD" if auth == "password" else "LINKIS_TOKEN"] = (
                PASSWORD if auth == "password" else TOKEN
            )
            try:
                seen: list[str] = []
                for cell in CELLS:
                    with capture_output() as cap:
                        result = shell.run_cell(cell)
                    seen += [cap.stdout, cap.stderr, *(repr(o.data) for o in cap.outputs)]
                    if result.error_in_exec is not None:
                        seen.append(every_text_of(result.error_in_exec))
                    seen.append(repr(result.result))
                if auth == "password":
                    with capture_output() as cap:
                        shell.run_cell("%linkis logout")
                        shell.run_cell("%linkis login")
                    seen += [cap.stdout, cap.stderr]
            finally:
                os.environ.pop("LINKIS_PASSWORD", None)
                os.environ.pop("LINKIS_TOKEN", None)
            (m,) = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
            seen += [
                repr(m),
                repr(m.session),
                repr(m.session.runs),
                repr(m.session.current_client()),
            ]
            assert proxy.count("POST", "entrance/submit") >= 4  # the session really ran
        assert "ok_df" in shell.user_ns
        seen += [r.getMessage() for r in caplog.records] + [caplog.text]
        joined = "\n".join(seen)
        assert "JobFailed" in joined or "table_that_does_not_exist" in joined
        assert hits(joined) == []

    @pytest.mark.parametrize("auth", ["password", "token"])
    def test_client_errors_and_reprs(
        self, box: SandboxProcess, auth: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        kw: dict[str, Any] = {"password": PASSWORD} if auth == "password" else {"token": TOKEN}
        seen: list[str] = []

        def reset_everything(m: str, p: str, n: int) -> Fault | None:
            return Fault.RESET if "jobhistory" in p else None

        with (
            FaultProxy(box.url, reset_everything) as proxy,
            LinkisClient(proxy.url, user="carol", retries=0, **kw) as client,
            LinkisClient(box.url, user="carol", **kw) as direct,
        ):
            seen += [repr(client), str(client), repr(vars(client).get("_session"))]
            job = client.submit("select 1 as x", engine_type=SQL)
            seen.append(repr(job))
            for action in (
                lambda: client.task(job.task_id or 0),  # connection reset
                lambda: client.open_file("file:///etc/passwd"),  # permission error
                lambda: direct.submit("select 1 from nowhere", engine_type=SQL).frames(),
                lambda: LinkisClient(proxy.url, user="carol", **kw).status("a/b"),
            ):
                with pytest.raises(LinkisError) as info:
                    action()
                seen.append(every_text_of(info.value))
        # A secret the gateway itself echoes back is redacted as well.
        with LinkisClient(box.url, user="carol", password="wrong-" + PASSWORD) as bad:
            with pytest.raises(LinkisError) as info:
                bad.tasks()
            seen.append(every_text_of(info.value))
        seen += [r.getMessage() for r in caplog.records] + [caplog.text]
        joined = "\n".join(seen)
        assert hits(joined) == []

    @pytest.mark.slow
    def test_saved_notebook(
        self, box: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for var in list(os.environ):
            if var.startswith("LINKIS_"):
                monkeypatch.delenv(var)
        monkeypatch.setenv("LINKIS_GATEWAY_URL", box.url)
        monkeypatch.setenv("LINKIS_USER", "carol")
        monkeypatch.setenv("LINKIS_PASSWORD", PASSWORD)
        nb = new_notebook(
            cells=[
                new_code_cell("%load_ext linkis_magic"),
                new_code_cell("%%linkis sql -o df\nselect 3 as z"),
                new_code_cell("df"),
                new_code_cell("%linkis config"),
                new_code_cell(
                    "%%linkis sql\nselect * from missing_table",
                    metadata={"tags": ["raises-exception"]},
                ),
                new_code_cell("import logging; logging.getLogger('linkis_magic').warning('x')"),
            ]
        )
        NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
        path = tmp_path / "saved.ipynb"
        nbformat.write(nb, path)
        text = path.read_text(encoding="utf-8")
        assert "missing_table" in text  # the outputs were really saved
        assert hits(text) == []


def reachable(*roots: object, skip: tuple[object, ...] = (), limit: int = 200_000) -> list[object]:
    """Every object reachable from ``roots`` through attributes, slots and containers.

    What a debugger, ``vars()`` or a variable inspector could show, one hop at a time. Types,
    modules, functions and the objects in ``skip`` (the IPython shell, which reaches the
    whole interpreter) are not entered.
    """
    seen: set[int] = {id(s) for s in skip}
    queue: list[object] = list(roots)
    found: list[object] = []
    opaque = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    while queue and len(found) < limit:
        obj = queue.pop()
        if id(obj) in seen or isinstance(obj, opaque):
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, (str, bytes, int, float, bool, type(None))):
            continue
        if isinstance(obj, dict):
            queue.extend(obj.keys())
            queue.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset, collections.deque)):
            queue.extend(obj)
        if isinstance(obj, types.MethodType):
            queue.append(obj.__self__)
            continue
        with contextlib.suppress(TypeError):
            queue.extend(vars(obj).values())
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                with contextlib.suppress(AttributeError):
                    queue.append(getattr(obj, name))
    assert len(found) < limit, "the walk did not finish"
    return found


class TestNothingReachableHoldsASecret:
    """No object reachable from the magics or their client shows the password or token."""

    @pytest.mark.parametrize("auth", ["password", "token"])
    @pytest.mark.usefixtures("clean_magics")
    def test_walk(self, shell: Any, box: SandboxProcess, auth: str) -> None:
        shell.run_line_magic("config", f"LinkisMagics.gateway_url = {box.url!r}")
        shell.run_line_magic("config", "LinkisMagics.user = 'carol'")
        secret = PASSWORD if auth == "password" else TOKEN
        shell.run_line_magic("config", f"LinkisMagics.{auth} = {secret!r}")
        shell.run_cell_magic("linkis", "-q -o walk_df", "select 1 as x")
        magics = next(c for c in shell.configurables if isinstance(c, LinkisMagics))
        client = magics.session.current_client()
        assert client is not None
        objects = reachable(magics, client, skip=(shell, magics.shell))
        assert len(objects) > 100  # the walk really went through the client's state
        leaks = [o for o in objects if hits(_safe_repr(o))]
        assert leaks == [], [type(o).__name__ for o in leaks]
        assert client.auth.kind == auth  # and the secret still works where it is needed


def _safe_repr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception:
        return ""
