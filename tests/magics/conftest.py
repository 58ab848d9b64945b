"""Magics fixtures: the shell's LinkisMagics with clean settings, pointed where a test says.

``clean_magics`` clears every ``LINKIS_*`` variable for the test and resets the magics after
it (settings, runs, client); ``connect(url)`` configures them for alice through ``%config``;
``magics`` is connected through ``proxy``, a loopback proxy in front of the session's sandbox
that records every request, so a test can prove that a usage error sent nothing at all;
``alice`` is a separate client straight to the sandbox, to check what the gateway recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.magics import LinkisMagics
from tests.support.proxy import FaultProxy
from tests.support.shell import configure, magics_of, reset


@pytest.fixture
def clean_magics(shell: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[LinkisMagics]:
    """The shell's LinkisMagics with no LINKIS_* environment; fully reset after the test."""
    for var in list(os.environ):
        if var.startswith("LINKIS_"):
            monkeypatch.delenv(var)
    reset(shell)
    yield magics_of(shell)
    reset(shell)


@pytest.fixture
def connect(shell: Any, clean_magics: LinkisMagics) -> Callable[..., LinkisMagics]:
    """``connect(url, user="alice", password="alice-secret")`` -> the configured magics."""

    def connect(url: str, user: str = "alice", password: str | None = "alice-secret") -> Any:
        return configure(shell, url, user, password)

    return connect


@pytest.fixture(scope="module")
def proxy(sandbox: Any) -> Iterator[FaultProxy]:
    """A loopback proxy in front of the sandbox that records every request (no faults)."""
    with FaultProxy(sandbox.url) as box:
        yield box


@pytest.fixture
def magics(connect: Callable[..., Any], proxy: FaultProxy) -> Any:
    """The shell's LinkisMagics, configured for alice through the recording proxy."""
    return connect(proxy.url)


@pytest.fixture
def alice(sandbox: Any) -> Iterator[LinkisClient]:
    """A separate client straight to the sandbox, to check what the gateway recorded."""
    with LinkisClient(sandbox.url, user="alice", password="alice-secret") as client:
        yield client
