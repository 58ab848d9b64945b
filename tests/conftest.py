"""Fixtures every test folder shares: the sandbox gateway process and the loopback double.

* ``sandbox``: one real sandbox for the session (users alice and bob, token SANDBOX-TOKEN-1),
  started by tests/support/sandbox.py, the starter benchmarks use too.
* ``gw``: a fresh loopback Linkis double per test (tests/support/double.py) with user alice
  and a token; ``client`` logs in to it with alice's password, ``token_client`` uses the token.
* ``results``: result sets served by the double (tests/support/scripts.py).
* ``sandbox_client``: a client logged in to the session's sandbox as alice.
* ``shell``: the IPython shell magics run in (tests/support/shell.py).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from linkis_magic.client import LinkisClient
from tests.support.double import ALICE_PASSWORD, ALICE_TOKEN, LinkisDouble
from tests.support.sandbox import SandboxProcess, start_sandbox
from tests.support.scripts import ResultServer
from tests.support.shell import ipython


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C raises KeyboardInterrupt in this process, as it does in every IPython shell.

    A run started in the background by a shell without job control (``cmd &`` in a script,
    a CI step, nohup) inherits SIGINT *ignored*, and Python then keeps it ignored: the Ctrl-C
    tests (tests/support/shell.py ``interrupt_when``) would send a signal nobody hears and wait
    for their cells to time out.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox gateway for the whole session (users alice and bob, token SANDBOX-TOKEN-1)."""
    box = start_sandbox(tmp_path_factory.mktemp("sandbox-data"))
    yield box
    box.stop()


@pytest.fixture
def sandbox_client(sandbox: SandboxProcess) -> Iterator[LinkisClient]:
    """A LinkisClient logged in to the session's sandbox gateway as alice."""
    with LinkisClient(sandbox.url, user="alice", password=sandbox.users["alice"]) as c:
        yield c


@pytest.fixture
def gw() -> Iterator[LinkisDouble]:
    """A loopback Linkis double with user alice (password and token)."""
    with LinkisDouble(users={"alice": ALICE_PASSWORD}, token=ALICE_TOKEN) as double:
        yield double


@pytest.fixture
def client(gw: LinkisDouble) -> Iterator[LinkisClient]:
    """A LinkisClient that logs in to the double as alice with her password."""
    with LinkisClient(gw.url, user="alice", password=ALICE_PASSWORD) as c:
        yield c


@pytest.fixture
def token_client(gw: LinkisDouble) -> Iterator[LinkisClient]:
    """A LinkisClient using alice's token against the double, without retries."""
    with LinkisClient(gw.url, user="alice", token=ALICE_TOKEN, retries=0) as c:
        yield c


@pytest.fixture
def results(gw: LinkisDouble) -> ResultServer:
    """Result sets served by the double under RESULT_DIR."""
    return ResultServer(gw)


@pytest.fixture(scope="session")
def shell() -> Any:
    """The process-wide IPython test shell with linkis_magic loaded (tests/support/shell.py)."""
    return ipython()
